import { initBackend, tf, type Tensor } from '@chameleon/nn';
import { advantageConfig, computeAdvantages } from './advantages';
import { mamlPpoConfig, mamlPpoStep } from './maml-ppo';
import { adaptPolicy, disposeTasks, innerObjective, taskAdvantages, uploadTasks } from './maml-rl';
import { mamlTrpoConfig, mamlTrpoStep } from './maml-trpo';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig } from './policy';
import { navigationBatches } from './test-helpers';
import type { TrajectoryBatch } from './trajectory';


const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 2, actionSize: 2, hidden: [8], init: 0.5, initStd: 0.5 }));
const advantages = advantageConfig.parse({});
const theta = policy.init(3);
const T = 3;
let pre: TrajectoryBatch[];
let post: TrajectoryBatch[];

beforeAll(async () => {
  await initBackend('wasm');
  pre = navigationBatches(policy, Array.from({ length: T }, () => theta), { tasks: T, episodes: 4, horizon: 10, seed: 7 });
  post = navigationBatches(policy, adaptPolicy(policy, theta, pre, 0.1, 1, advantages), { tasks: T, episodes: 4, horizon: 10, seed: 8 });
});

describe('adaptPolicy', () => {
  it('equals a hand-built REINFORCE step per task (one task at a time, tf.grads on its own objective)', () => {
    const adapted = adaptPolicy(policy, theta, pre, 0.1, 1, advantages);
    tf.tidy(() => {
      pre.forEach((b, i) => {
        const adv = computeAdvantages(b, advantages).advantages;
        const th = theta.map((v, k) => tf.tensor(v, policy.spec[k].shape as number[]));
        const obs = tf.tensor2d(b.observations, [b.episodes * b.horizon, 2]);
        const act = tf.tensor2d(b.actions, [b.episodes * b.horizon, 2]);
        const mask = tf.tensor1d(b.mask);
        const J = (...p: Tensor[]) => tf.div(tf.sum(tf.mul(tf.mul(policy.logProb(p, obs, act), tf.tensor1d(adv)), mask)), tf.sum(mask));
        const g = tf.grads(J)(th);
        th.forEach((t, k) => {
          const want = tf.add(t, tf.mul(0.1, g[k])).dataSync();
          adapted[i][k].forEach((v, j) => expect(v).toBeCloseTo(want[j], 5));
        });
      });
    });
  });

  it('raises every task\'s inner objective with a small step, takes none with zero steps, and validates inputs', () => {
    const adapted = adaptPolicy(policy, theta, pre, 0.01, 1, advantages);
    tf.tidy(() => {
      const data = uploadTasks(pre, taskAdvantages(pre, advantages));
      const J = (p: readonly Float32Array[], i: number) => innerObjective(policy, p.map((v, k) => tf.tensor(v, policy.spec[k].shape as number[])), data[i]).dataSync()[0];
      pre.forEach((_, i) => expect(J(adapted[i], i)).toBeGreaterThan(J(theta, i)));
      disposeTasks(data);
    });
    expect(adaptPolicy(policy, theta, pre, 0.1, 0, advantages)).toEqual(pre.map(() => theta));
    expect(() => adaptPolicy(policy, theta, pre, -1, 1, advantages)).toThrow(/^innerLr:/);
    expect(() => adaptPolicy(policy, theta.slice(1), pre, 0.1, 1, advantages)).toThrow(/^theta:/);
  });
});

describe('mamlTrpoStep', () => {
  it('improves the surrogate within the trust region (second and first order)', () => {
    for (const firstOrder of [false, true]) {
      const cfg = mamlTrpoConfig.parse({ firstOrder });
      const { theta: next, diagnostics: d } = mamlTrpoStep(policy, theta, pre, post, cfg);
      expect(d.accepted).toBe(true);
      expect(d.kl).toBeLessThanOrEqual(cfg.trpo.maxKl);
      expect(d.kl).toBeGreaterThan(0);
      expect(d.surrogateAfter).toBeGreaterThan(d.surrogateBefore);
      expect(next).not.toEqual(theta);
      next.forEach((p) => expect(p.every(Number.isFinite)).toBe(true));
    }
  });

  it('rejects a step that does not improve the surrogate and returns theta unchanged', () => {
    // Zero rewards and no normalisation: every advantage is 0, so is the meta-gradient, and
    // the (zero) step cannot strictly improve the surrogate.
    const zero = post.map((b) => ({ ...b, rewards: new Float32Array(b.rewards.length) }));
    const r = mamlTrpoStep(policy, theta, pre, zero, mamlTrpoConfig.parse({ advantages: { normalise: false } }));
    expect(r.diagnostics.accepted).toBe(false);
    expect(r.diagnostics.gradNorm).toBe(0);
    expect(r.theta).toEqual(theta);
    expect(r.diagnostics.surrogateAfter).toBe(r.diagnostics.surrogateBefore);
    expect(r.diagnostics.kl).toBe(0);
  });

  it('does not leak tensors over repeated calls', () => {
    const cfg = mamlTrpoConfig.parse({});
    mamlTrpoStep(policy, theta, pre, post, cfg);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) mamlTrpoStep(policy, theta, pre, post, { ...cfg, hvp: (['exact', 'double-backprop', 'finite-difference'] as const)[i] });
    mamlTrpoStep(policy, theta, pre, post, { ...cfg, firstOrder: true });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects mismatched inputs naming the field, without leaking', () => {
    const before = tf.memory().numTensors;
    const cfg = mamlTrpoConfig.parse({});
    expect(() => mamlTrpoStep(policy, theta, pre, post.slice(1), cfg)).toThrow(/^post:/);
    expect(() => mamlTrpoStep(policy, [theta[0]], pre, post, cfg)).toThrow(/^theta:/);
    const empty = { ...post[1], mask: new Float32Array(post[1].mask.length) };
    expect(() => mamlTrpoStep(policy, theta, pre, [post[0], empty, post[2]], cfg)).toThrow(/^post\[1\]:/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('mamlPpoStep', () => {
  it('raises the clipped surrogate over its epochs, threads the optimiser state and does not leak', () => {
    const cfg = mamlPpoConfig.parse({ epochs: 4, optimiser: { learningRate: 0.01 } });
    const first = mamlPpoStep(policy, theta, pre, post, cfg);
    const before = tf.memory().numTensors;
    expect(first.diagnostics.epochs).toBe(4);
    expect(first.state.step).toBe(4);
    expect(first.diagnostics.surrogateAfter).toBeGreaterThan(first.diagnostics.surrogateBefore);
    expect(first.diagnostics.kl).toBeGreaterThan(0);
    const second = mamlPpoStep(policy, first.theta, pre, post, cfg, first.state);
    expect(second.state.step).toBe(8);
    const fo = mamlPpoStep(policy, theta, pre, post, { ...cfg, firstOrder: true });
    expect(fo.theta).not.toEqual(first.theta);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops early once the KL exceeds maxKl', () => {
    const r = mamlPpoStep(policy, theta, pre, post, mamlPpoConfig.parse({ epochs: 20, maxKl: 1e-4, optimiser: { learningRate: 0.05 } }));
    expect(r.diagnostics.epochs).toBeLessThan(20);
  });
});
