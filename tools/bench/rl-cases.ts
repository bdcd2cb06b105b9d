/**
 * The cases of the meta-RL benchmark (tools/bench/rl.ts), run in a child process against one
 * checkout of the repository: this one, or an older commit unpacked by the driver ("before").
 * Only APIs that existed before the fused path are called with their defaults, so the same
 * file measures either tree; `--reference` adds the generic path of this tree (fused: false).
 *
 *   node -r @swc-node/register tools/bench/rl-cases.ts --data FILE --repeats N [--reference] [--only a,b]
 *
 * Prints one JSON line: { results: [{ case, variant, wallMs[], cpuMs[], load1[] }] }.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { deserialize } from 'node:v8';
import { NavigationEnvironment, NavigationFamily, navigationEnvConfig } from '@chameleon/envs';
import { initBackend, tf } from '@chameleon/nn';
import { GaussianMlpPolicy, adaptPolicy, advantageConfig, gaussianMlpPolicyConfig, mamlTrpoConfig, mamlTrpoStep, trpoPlugin, type TrajectoryBatch } from '@chameleon/rl';
import { sampleTasks } from '@chameleon/tasks';
import { runRollouts, type ActingPolicy } from '@chameleon/app-environment-simulator/src/rollouts';

/** What the driver samples once and every child loads: identical inputs for both trees. */
export interface BenchData {
  readonly hidden: number[];
  readonly tasks: number;
  readonly horizon: number;
  readonly theta: Float32Array[];
  readonly pre: TrajectoryBatch[];
  readonly post: TrajectoryBatch[];
  readonly adapted: Float32Array[][];
  /** Rollout episodes in total (over all tasks). */
  readonly rolloutEpisodes: number;
}

export interface CaseResult {
  case: string;
  variant: string;
  wallMs: number[];
  cpuMs: number[];
  load1: number[];
}

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

async function main(): Promise<void> {
  await initBackend('wasm');
  const d = deserialize(readFileSync(flag('--data')!)) as BenchData;
  const repeats = Number(flag('--repeats') ?? 1);
  const only = flag('--only')?.split(',');
  const reference = args.includes('--reference');
  const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 2, actionSize: 2, hidden: d.hidden, activation: 'tanh' }));
  const adv = advantageConfig.parse({});
  const inner = { steps: 1, learningRate: 0.1, discount: 0.99, gaeLambda: 1 };
  const env = new NavigationEnvironment(navigationEnvConfig.parse({ horizon: d.horizon }));
  const tasks = sampleTasks(new NavigationFamily(), { split: 'train', seed: 3, start: 0, count: d.tasks });
  const episodes = Array.from({ length: d.rolloutEpisodes }, (_, e) => ({ task: e % d.tasks, episode: Math.floor(e / d.tasks) }));
  const plan = { env, tasks, episodes, params: d.adapted, horizon: d.horizon, seed: 5, chunkSteps: 128, parallelWorlds: 64, deterministic: false };
  const rollouts = (acting: ActingPolicy) => () => runRollouts(plan, acting, async () => undefined, () => undefined);
  // The same policy without actWithNoise: runRollouts then acts world by world.
  const perWorld: ActingPolicy = { spec: policy.spec, observationSize: 2, actionSize: 2, act: (p, o, n, r, det) => policy.act(p, o, n, r, det) };
  const { theta, pre, post } = d;
  const cases: Array<[string, string, () => unknown]> = [
    ['maml-trpo-2nd', 'default', () => mamlTrpoStep(policy, theta, pre, post, mamlTrpoConfig.parse({}))],
    ['maml-trpo-1st', 'default', () => mamlTrpoStep(policy, theta, pre, post, mamlTrpoConfig.parse({ firstOrder: true }))],
    ['trpo', 'default', () => trpoPlugin.create(trpoPlugin.configSchema.parse({})).step(policy, theta, pre, [], inner)],
    ['adapt-policy', 'default', () => adaptPolicy(policy, theta, pre, 0.1, 1, adv)],
    ['rollouts', 'default', rollouts(policy)],
  ];
  if (reference) {
    cases.push(
      ['maml-trpo-2nd', 'reference', () => mamlTrpoStep(policy, theta, pre, post, mamlTrpoConfig.parse({ fused: false }))],
      ['maml-trpo-1st', 'reference', () => mamlTrpoStep(policy, theta, pre, post, mamlTrpoConfig.parse({ firstOrder: true, fused: false }))],
      ['trpo', 'reference', () => trpoPlugin.create({ ...trpoPlugin.configSchema.parse({}), fused: false }).step(policy, theta, pre, [], inner)],
      ['adapt-policy', 'reference', () => adaptPolicy(policy, theta, pre, 0.1, 1, adv, { fused: false })],
      ['rollouts', 'reference', rollouts(perWorld)],
    );
  }
  const selected = cases.filter(([c]) => !only || only.includes(c));
  for (const [, , f] of selected) await f(); // warm-up
  const results: CaseResult[] = [];
  for (let rep = 0; rep < repeats; rep++) {
    for (const [c, variant, f] of selected) {
      const tensors = tf.memory().numTensors;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await f();
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (tf.memory().numTensors !== tensors) throw new Error(`${c}/${variant} leaked ${tf.memory().numTensors - tensors} tensors`);
      let r = results.find((x) => x.case === c && x.variant === variant);
      if (!r) results.push((r = { case: c, variant, wallMs: [], cpuMs: [], load1: [] }));
      r.wallMs.push(wall);
      r.cpuMs.push((cpu.user + cpu.system) / 1000);
      r.load1.push(loadavg()[0]);
      process.stderr.write(`    ${c} ${variant}: ${wall.toFixed(0)} ms wall, ${r.cpuMs[r.cpuMs.length - 1].toFixed(0)} ms cpu, load ${loadavg()[0].toFixed(2)}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify({ results })}\n`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
