import { Rng } from '@chameleon/core';
import { importanceCorrectedUpdate, type EpisodeRecord } from '@chameleon/agents';
import { initBackend } from '@chameleon/nn';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig } from '@chameleon/rl';
import { AdaptationPool } from './adapt-pool';

const config = gaussianMlpPolicyConfig.parse({ observationSize: 3, actionSize: 2, hidden: [8] });
const policy = new GaussianMlpPolicy(config);

function episode(seed: number): EpisodeRecord {
  const rng = new Rng(seed);
  const n = 12;
  const observations = new Float32Array(n * 3).map(() => rng.normal());
  const r = policy.act(policy.init(1), observations, n, rng);
  return { length: n, observations, actions: r.actions, logProbs: r.logProbs, rewards: new Float32Array(n).map(() => rng.normal()), discounts: new Float32Array(n).fill(1) };
}

let pool: AdaptationPool;
beforeAll(async () => {
  await initBackend('wasm');
  pool = new AdaptationPool(1, 'wasm');
  await pool.ready();
});
afterAll(() => pool.close());

describe('AdaptationPool (worker threads for between-round updates)', () => {
  it('computes exactly the update the event loop would, and reports a failing job as INTERNAL', async () => {
    const theta = policy.init(1);
    const alpha = [policy.spec.map(() => 0.05)];
    const episodes = [episode(2), episode(3)];
    const job = { policy: { architecture: 'gaussian-mlp', config: config as unknown as Record<string, unknown> }, theta, alpha, episodes, discount: 0.99 };
    const [remote, inline] = [await pool.run(job), importanceCorrectedUpdate(policy, theta, alpha, episodes, 0.99)];
    remote.forEach((t, k) => expect(Array.from(t)).toEqual(Array.from(inline[k])));
    // The job's GAE lambda reaches the worker.
    const [remoteGae, inlineGae] = [await pool.run({ ...job, gaeLambda: 0.5 }), importanceCorrectedUpdate(policy, theta, alpha, episodes, { gamma: 0.99, lambda: 0.5 })];
    remoteGae.forEach((t, k) => expect(Array.from(t)).toEqual(Array.from(inlineGae[k])));
    expect(remoteGae.some((t, k) => t.some((v, j) => v !== inline[k][j]))).toBe(true);
    await expect(pool.run({ ...job, policy: { architecture: 'no-such-policy', config: {} } })).rejects.toMatchObject({ code: 'INTERNAL' });
  }, 60_000);

  it('sends a session back to the worker of its last update when that worker is no busier, else to the least busy', async () => {
    const two = new AdaptationPool(2, 'wasm');
    try {
      await two.ready();
      const theta = policy.init(1);
      const alpha = [policy.spec.map(() => 0.05)];
      const job = (session: string, seed: number) => ({ policy: { architecture: 'gaussian-mlp', config: config as unknown as Record<string, unknown> }, theta, alpha, episodes: [episode(seed)], discount: 0.99, session });
      await two.run(job('a', 4));
      expect(two.workerOf('a')).toBe(0);
      // Worker 0 busy with b: a goes to the idle worker 1 ...
      await Promise.all([two.run(job('b', 5)), two.run(job('a', 6))]);
      expect([two.workerOf('b'), two.workerOf('a')]).toEqual([0, 1]);
      // ... and, both idle again, stays there (without affinity the first idle worker, 0, would take it).
      const phi = await two.run(job('a', 7));
      expect(two.workerOf('a')).toBe(1);
      importanceCorrectedUpdate(policy, theta, alpha, [episode(7)], 0.99).forEach((t, k) => expect(Array.from(phi[k])).toEqual(Array.from(t)));
    } finally {
      await two.close();
    }
  }, 60_000);
});
