import { initBackend, tf, wasmKernelsActive } from '@chameleon/nn';
import { advantageConfig } from '../advantages';
import { trpoPlugin } from '../algorithms';
import { mamlRlProblem, type MamlRlProblem } from '../maml-problem';
import { adaptPolicy } from '../maml-rl';
import { mamlTrpoConfig, mamlTrpoStep } from '../maml-trpo';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig } from '../policy';
import { axpy, navigationBatches, randomUnit } from '../test-helpers';
import { selectEpisodes, type TrajectoryBatch } from '../trajectory';

beforeAll(async () => {
  await initBackend('wasm');
});

const advantages = advantageConfig.parse({});
const T = 3;

/** |a - b| / |b| (Euclidean). */
const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let [d, n] = [0, 0];
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / Math.max(n, 1e-30));
};

/**
 * Tasks with different numbers of real steps (the fused path pads them): task 0 keeps its 4
 * episodes, task 1 three, task 2 four with one cut short.
 */
function ragged(batches: TrajectoryBatch[]): TrajectoryBatch[] {
  const b1 = selectEpisodes(batches[1], [0, 1, 2]);
  const b2 = batches[2];
  const mask = b2.mask.slice();
  mask.fill(0, 1 * b2.horizon + 4, 2 * b2.horizon);
  return [batches[0], b1, { ...b2, mask }];
}

function data(policy: GaussianMlpPolicy, raggedTasks: boolean) {
  const theta = policy.init(3);
  let pre = navigationBatches(policy, Array.from({ length: T }, () => theta), { tasks: T, episodes: 4, horizon: 10, seed: 7 });
  if (raggedTasks) pre = ragged(pre);
  let post = navigationBatches(policy, adaptPolicy(policy, theta, pre, 0.1, 1, advantages, { fused: false }), { tasks: T, episodes: 4, horizon: 10, seed: 8 });
  if (raggedTasks) post = ragged(post);
  return { theta, pre, post };
}

// float32 sums of a few hundred terms in another order: the largest difference measured over
// this file is 4e-6 relative; 1e-4 leaves room yet is far below what a wrong term produces
// (the first-order control below differs by more than 1e-2).
const TOL = 1e-4;

const policies = {
  'tanh 8-8': new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ hidden: [8, 8], activation: 'tanh', init: 0.5, initStd: 0.5 })),
  'relu 8-8': new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ hidden: [8, 8], activation: 'relu', init: 0.5, initStd: 0.5 })),
  'tanh 6 (one hidden layer)': new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ hidden: [6], activation: 'tanh', init: 0.5, initStd: 0.5 })),
  'tanh 12-8-4 (three hidden layers)': new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ hidden: [12, 8, 4], activation: 'tanh', init: 0.5, initStd: 0.5 })),
};

const settings = [
  ['second order', { innerLr: 0.1, firstOrder: false }],
  ['first order', { innerLr: 0.1, firstOrder: true }],
  ['plain TRPO (innerLr 0)', { innerLr: 0, firstOrder: true }],
] as const;

describe('fused MAML-RL problem equals the reference', () => {
  it('runs on the SIMD kernels (otherwise the comparison would not cover them)', () => {
    expect(wasmKernelsActive()).toBe(true);
  });

  describe.each(Object.entries(policies))('%s', (_name, policy) => {
    it.each(settings.flatMap(([s, o]) => [[s, false, o], [s, true, o]] as const))('%s (ragged tasks: %s): surrogate, gradient, KL HVPs, KL gradients and line-search points', (_s, raggedTasks, opts) => {
      const { theta, pre, post } = data(policy, raggedTasks);
      const make = (fused: boolean): MamlRlProblem => mamlRlProblem(policy, theta, pre, post, { ...opts, hvp: 'exact', advantages, fused });
      const before = tf.memory().numTensors;
      const [fast, ref] = [make(true), make(false)];
      try {
        const [a, b] = [fast.surrogateAndGradient(), ref.surrogateAndGradient()];
        expect(Math.abs(a.surrogate - b.surrogate)).toBeLessThan(1e-6);
        expect(relDiff(a.gradient, b.gradient)).toBeLessThan(TOL);
        for (let d = 0; d < 2; d++) {
          const v = randomUnit(fast.x0.length, 40 + d);
          expect(relDiff(fast.klHvp(v), ref.klHvp(v))).toBeLessThan(TOL);
          const x = axpy(fast.x0, 0.05, v);
          expect(relDiff(fast.klGradient(x), ref.klGradient(x))).toBeLessThan(TOL);
          const [e, f] = [fast.evaluate(x), ref.evaluate(x)];
          expect(Math.abs(e.surrogate - f.surrogate)).toBeLessThan(1e-5 * (1 + Math.abs(f.surrogate)));
          expect(Math.abs(e.kl - f.kl)).toBeLessThan(1e-5 * f.kl + 1e-8);
        }
        const at0 = fast.evaluate(fast.x0);
        expect(at0.kl).toBeLessThan(1e-6);
      } finally {
        fast.dispose();
        ref.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('detects a missing second-order term (the comparison has power)', () => {
    const policy = policies['tanh 8-8'];
    const { theta, pre, post } = data(policy, false);
    const so = mamlRlProblem(policy, theta, pre, post, { innerLr: 0.1, firstOrder: false, hvp: 'exact', advantages });
    const fo = mamlRlProblem(policy, theta, pre, post, { innerLr: 0.1, firstOrder: true, hvp: 'exact', advantages });
    try {
      const v = randomUnit(so.x0.length, 5);
      expect(relDiff(fo.surrogateAndGradient().gradient, so.surrogateAndGradient().gradient)).toBeGreaterThan(100 * TOL);
      expect(relDiff(fo.klHvp(v), so.klHvp(v))).toBeGreaterThan(100 * TOL);
    } finally {
      so.dispose();
      fo.dispose();
    }
  });
});

describe('fused adaptPolicy and steps equal the reference', () => {
  it.each([[1, false], [2, false], [1, true], [2, true]])('adaptPolicy, %i step(s), ragged tasks %s', (steps, raggedTasks) => {
    for (const policy of [policies['tanh 8-8'], policies['relu 8-8']]) {
      const { theta, pre } = data(policy, raggedTasks);
      const fast = adaptPolicy(policy, theta, pre, 0.1, steps, advantages);
      const ref = adaptPolicy(policy, theta, pre, 0.1, steps, advantages, { fused: false });
      fast.forEach((p, i) => expect(relDiff(p.flatMap((x) => Array.from(x)), ref[i].flatMap((x) => Array.from(x)))).toBeLessThan(1e-5));
    }
  });

  // CG amplifies float32 round-off on these small, ill-conditioned Fisher matrices: with 10
  // iterations, 1e-6 relative noise in Hv moves the reference's own solution by about 4%
  // (measured), so the two paths are compared at 4 iterations, where both agree to ~1e-6.
  it.each([[false], [true]])('mamlTrpoStep (first order: %s) takes the same step', (firstOrder) => {
    const policy = policies['tanh 8-8'];
    const { theta, pre, post } = data(policy, false);
    const [a, b] = [true, false].map((fused) => mamlTrpoStep(policy, theta, pre, post, mamlTrpoConfig.parse({ firstOrder, fused, trpo: { cgIters: 4 } })));
    const step = (x: Float32Array[]) => x.flatMap((p, k) => Array.from(p, (v, j) => v - theta[k][j]));
    expect(a.diagnostics.accepted).toBe(true);
    expect(a.diagnostics.lineSearchSteps).toBe(b.diagnostics.lineSearchSteps);
    expect(relDiff([a.diagnostics.surrogateAfter, a.diagnostics.kl], [b.diagnostics.surrogateAfter, b.diagnostics.kl])).toBeLessThan(TOL);
    expect(relDiff(step(a.theta), step(b.theta))).toBeLessThan(TOL);
  });

  it('the multi-task TRPO plugin takes the same step', () => {
    const policy = policies['relu 8-8'];
    const { theta, pre } = data(policy, true);
    const inner = { steps: 1, learningRate: 0.1, discount: 0.99, gaeLambda: 1 };
    const config = { ...trpoPlugin.configSchema.parse({}), trpo: { ...trpoPlugin.configSchema.parse({}).trpo, cgIters: 4 } };
    const [a, b] = [true, false].map((fused) => trpoPlugin.create({ ...config, fused }).step(policy, theta, pre, [], inner));
    const step = (x: Float32Array[]) => x.flatMap((p, k) => Array.from(p, (v, j) => v - theta[k][j]));
    expect(a.accepted).toBe(true);
    expect(relDiff(step(a.theta), step(b.theta))).toBeLessThan(TOL);
  });
});
