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
    await expect(pool.run({ ...job, policy: { architecture: 'no-such-policy', config: {} } })).rejects.toMatchObject({ code: 'INTERNAL' });
  }, 60_000);
});
