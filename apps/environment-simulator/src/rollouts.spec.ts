import { NavigationEnvironment, NavigationFamily, navigationEnvConfig } from '@chameleon/envs';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig } from '@chameleon/rl';
import { sampleTasks } from '@chameleon/tasks';
import { runRollouts, type ActingPolicy, type Chunk, type RolloutPlan } from './rollouts';

const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 2, actionSize: 2, hidden: [16, 16], initStd: 0.5 }));
const tasks = sampleTasks(new NavigationFamily(), { split: 'train', seed: 4, start: 0, count: 3 });

/** 3 tasks x 7 episodes in waves of 8 worlds (groups mix tasks, the last wave is partial), one parameter list per task. */
const plan = (deterministic: boolean, perTask: boolean): RolloutPlan => ({
  env: new NavigationEnvironment(navigationEnvConfig.parse({ horizon: 30 })),
  tasks,
  episodes: Array.from({ length: 21 }, (_, e) => ({ task: e % 3, episode: Math.floor(e / 3) })),
  params: perTask ? [policy.init(1), policy.init(2), policy.init(3)] : [policy.init(1)],
  horizon: 30,
  seed: 9,
  chunkSteps: 32,
  parallelWorlds: 8,
  deterministic,
});

async function chunks(p: RolloutPlan, acting: ActingPolicy): Promise<Chunk[]> {
  const out: Chunk[] = [];
  await runRollouts(p, acting, async (c) => void out.push(c), () => undefined);
  return out;
}

describe('runRollouts with a batched policy (actWithNoise)', () => {
  // The same policy without actWithNoise: runRollouts then acts world by world, as before.
  const perWorld: ActingPolicy = { spec: policy.spec, observationSize: 2, actionSize: 2, act: (p, o, n, r, d) => policy.act(p, o, n, r, d) };

  it.each([
    [false, true],
    [true, true],
    [false, false],
  ])('streams exactly the chunks of the world-by-world path (deterministic %s, per-task params %s)', async (deterministic, perTask) => {
    const batched = await chunks(plan(deterministic, perTask), policy);
    const reference = await chunks(plan(deterministic, perTask), perWorld);
    expect(batched.length).toBeGreaterThan(0);
    expect(batched).toEqual(reference);
  });
});
