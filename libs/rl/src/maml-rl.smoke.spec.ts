import { Rng } from '@chameleon/core';
import { NavigationEnvironment, NavigationFamily, VectorEnv, navigationEnvConfig } from '@chameleon/envs';
import { initBackend, tf } from '@chameleon/nn';
import { sampleTasks } from '@chameleon/tasks';
import { collectEpisodes } from './collect';
import { adaptPolicy } from './maml-rl';
import { mamlTrpoConfig, mamlTrpoStep } from './maml-trpo';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig } from './policy';
import { episodeReturns, splitByTask } from './trajectory';

beforeAll(async () => {
  await initBackend('wasm');
});

const mean = (x: Float32Array) => x.reduce((s, v) => s + v, 0) / x.length;

describe('MAML-TRPO on 2D navigation (smoke)', () => {
  it('runs iterations of the whole loop without NaN, every accepted step within the KL bound, without leaking', () => {
    const [T, K, H] = [5, 5, 20];
    const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 2, actionSize: 2 }));
    const cfg = mamlTrpoConfig.parse({});
    const env = new NavigationEnvironment(navigationEnvConfig.parse({ horizon: H }));
    const worldTask = Array.from({ length: T * K }, (_, w) => Math.floor(w / K));
    const rng = new Rng(1);
    let theta = policy.init(0);
    let tensors = -1;
    for (let it = 0; it < 3; it++) {
      const tasks = sampleTasks(new NavigationFamily(), { split: 'train', seed: 1, start: it * T, count: T });
      const venv = new VectorEnv(env, T * K, worldTask.map((i) => tasks[i]), it);
      const opts = { taskOfWorld: worldTask };
      // D_i with theta, then D'_i with each task's adapted parameters, in the same worlds.
      const pre = splitByTask(collectEpisodes(venv, (o, n, r) => policy.act(theta, o, n, r), T * K, H, rng, opts), T);
      const adapted = adaptPolicy(policy, theta, pre, cfg.innerLr, 1, cfg.advantages);
      const post = splitByTask(collectEpisodes(venv, (o, n, r) => policy.actRows(adapted, worldTask, o, n, r), T * K, H, rng, opts), T);
      const { theta: next, diagnostics: d } = mamlTrpoStep(policy, theta, pre, post, cfg);
      console.log(`iteration ${it}: pre return ${mean(episodeReturns(pre[0])).toFixed(3)}, post return ${mean(episodeReturns(post[0])).toFixed(3)}, ${JSON.stringify(d)}`);
      expect(Number.isFinite(d.surrogateBefore) && Number.isFinite(d.surrogateAfter) && Number.isFinite(d.kl)).toBe(true);
      if (d.accepted) expect(d.kl).toBeLessThanOrEqual(cfg.trpo.maxKl);
      next.forEach((p) => expect(p.every(Number.isFinite)).toBe(true));
      theta = next;
      if (it === 0) tensors = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
