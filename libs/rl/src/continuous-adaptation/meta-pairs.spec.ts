import { initBackend } from '@chameleon/nn';
import { advantageConfig } from '../advantages';
import { adaptPolicy } from '../maml-rl';
import { axpy, dot, navigationBatches, randomUnit } from '../test-helpers';
import { adaptWithLearnedStepSizes, metaPairsConfig, metaPairsObjective, metaPairsStep } from './meta-pairs';
import { StepSizePolicy, stepSizePolicyConfig } from './step-size-policy';

beforeAll(async () => {
  await initBackend('wasm');
});

// tanh keeps the objective smooth; two inner steps with per-tensor alpha keep the problem tiny.
const policy = new StepSizePolicy(stepSizePolicyConfig.parse({ observationSize: 2, actionSize: 2, hidden: [8], init: 0.5, initStd: 0.5, innerSteps: 2, stepSizes: 'tensor', initialStepSize: 0.2 }));
const params = policy.init(3);
const P = policy.policyTensors;
const config = metaPairsConfig.parse({ epochs: 3, optimiser: { learningRate: 0.01 } });
const advantages = advantageConfig.parse({});

/** Pairs: D_i (task i, with theta) and D'_i (task i + 1, with the adapted policy). */
function pairs() {
  const tasks = 4;
  const theta = Array.from({ length: tasks + 1 }, () => params);
  const seq = navigationBatches(policy, theta, { tasks: tasks + 1, episodes: 4, horizon: 10, seed: 11 });
  const pre = seq.slice(0, tasks);
  const adapted = adaptWithLearnedStepSizes(policy, params, pre, advantages);
  // Task i + 1's trajectories with task i's adapted policy (navigationBatches draws goals by index).
  const post = navigationBatches(policy, [params, ...adapted], { tasks: tasks + 1, episodes: 4, horizon: 10, seed: 12 }).slice(1);
  return { pre, post };
}

describe('continuous adaptation (Algorithm 1)', () => {
  it('carries M x P step sizes after the policy parameters, named alpha/<param> and alpha/step<m>/<param>', () => {
    expect(policy.spec).toHaveLength(3 * P);
    expect(policy.spec[P].name).toBe('alpha/layer0/weight');
    expect(policy.spec[2 * P].name).toBe('alpha/step1/layer0/weight');
    expect(params.slice(P).every((a) => a.length === 1 && a[0] === Math.fround(0.2))).toBe(true);
  });

  it('alpha receive non-zero gradients that match central finite differences through both inner steps', () => {
    const { pre, post } = pairs();
    const { gradient } = metaPairsObjective(policy, params, pre, post, config);
    const alphaGrad = Float32Array.from(gradient.slice(P).flatMap((g) => [...g]));
    expect(Math.sqrt(dot(alphaGrad, alphaGrad))).toBeGreaterThan(1e-3);
    const base = Float32Array.from(params.slice(P).flatMap((a) => [...a]));
    const at = (alpha: Float32Array) => metaPairsObjective(policy, [...params.slice(0, P), ...Array.from(alpha, (v) => Float32Array.of(v))], pre, post, config).value;
    const eps = 1e-2;
    for (const seed of [1, 2]) {
      const v = randomUnit(base.length, seed);
      const fd = (at(axpy(base, eps, v)) - at(axpy(base, -eps, v))) / (2 * eps);
      expect(Math.abs(dot(alphaGrad, v) - fd)).toBeLessThan(5e-4 + 2e-2 * Math.abs(fd));
    }
  });

  it('theta receives the gradient through both inner steps: it matches central finite differences of the whole objective', () => {
    const { pre, post } = pairs();
    const { gradient } = metaPairsObjective(policy, params, pre, post, config);
    const sizes = params.slice(0, P).map((p) => p.length);
    const thetaGrad = Float32Array.from(gradient.slice(0, P).flatMap((g) => [...g]));
    const base = Float32Array.from(params.slice(0, P).flatMap((p) => [...p]));
    const offsets = sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a + b, 0));
    const unflat = (x: Float32Array) => sizes.map((n, k) => x.slice(offsets[k], offsets[k] + n));
    const at = (theta: Float32Array) => metaPairsObjective(policy, [...unflat(theta), ...params.slice(P)], pre, post, config).value;
    const eps = 1e-2;
    for (const seed of [3, 4]) {
      const v = randomUnit(base.length, seed);
      const fd = (at(axpy(base, eps, v)) - at(axpy(base, -eps, v))) / (2 * eps);
      expect(Math.abs(fd)).toBeGreaterThan(1e-4);
      expect(Math.abs(dot(thetaGrad, v) - fd)).toBeLessThan(5e-4 + 2e-2 * Math.abs(fd));
    }
  });

  it('targetKl stops the epochs once the adapted policies moved too far: a tiny target runs exactly one epoch, a loose one all', () => {
    const { pre, post } = pairs();
    const one = metaPairsStep(policy, params, pre, post, { ...config, epochs: 1 });
    const tight = metaPairsStep(policy, params, pre, post, { ...config, targetKl: 1e-12 });
    expect(tight.diagnostics.epochs).toBe(1);
    tight.params.forEach((p, k) => expect(Array.from(p)).toEqual(Array.from(one.params[k])));
    const loose = metaPairsStep(policy, params, pre, post, { ...config, targetKl: 1e6 });
    const none = metaPairsStep(policy, params, pre, post, config);
    expect(loose.diagnostics.epochs).toBe(config.epochs);
    expect(none.diagnostics.epochs).toBe(config.epochs);
    loose.params.forEach((p, k) => expect(Array.from(p)).toEqual(Array.from(none.params[k])));
    expect(() => metaPairsConfig.parse({ targetKl: 0 })).toThrow();
  });

  it('a meta-step changes theta and alpha, keeps alpha positive and reports finite diagnostics', () => {
    const { pre, post } = pairs();
    const r = metaPairsStep(policy, params, pre, post, config);
    const changed = (k: number) => r.params[k].some((v, j) => v !== params[k][j]);
    expect(Array.from({ length: P }, (_, k) => changed(k)).some(Boolean)).toBe(true);
    expect(Array.from({ length: 2 * P }, (_, k) => changed(P + k)).filter(Boolean).length).toBeGreaterThan(P);
    expect(r.params.slice(P).every((a) => a.every((v) => v >= config.minStepSize))).toBe(true);
    expect(r.diagnostics.alphaGradNorm).toBeGreaterThan(0);
    expect(Number.isFinite(r.diagnostics.surrogateAfter) && Number.isFinite(r.diagnostics.kl)).toBe(true);
  });

  it('minibatches: one optimiser step per share of the pairs, each on its own pairs only; more minibatches than pairs is refused', () => {
    const { pre, post } = pairs();
    const sgd = { name: 'sgd' as const, learningRate: 0.01 };
    const two = metaPairsConfig.parse({ epochs: 1, minibatches: 2, optimiser: sgd, minStepSize: 0 });
    const r = metaPairsStep(policy, params, pre, post, two);
    // By hand: an SGD step on the even pairs' objective, then one on the odd pairs' at the new point.
    const one = metaPairsConfig.parse({ epochs: 1, optimiser: sgd, minStepSize: 0 });
    const g0 = metaPairsObjective(policy, params, [pre[0], pre[2]], [post[0], post[2]], one).gradient;
    const mid = params.map((p, k) => p.map((v, j) => v + 0.01 * g0[k][j]));
    const g1 = metaPairsObjective(policy, mid, [pre[1], pre[3]], [post[1], post[3]], one).gradient;
    r.params.forEach((p, k) => p.forEach((v, j) => expect(v).toBeCloseTo(mid[k][j] + 0.01 * g1[k][j], 5)));
    expect(() => metaPairsStep(policy, params, pre, post, metaPairsConfig.parse({ minibatches: 5 }))).toThrow(/minibatches/);
  });

  it('with M = 1 and alpha equal to a scalar step, adapts exactly like MAML-RL\'s inner step', () => {
    const one = new StepSizePolicy(stepSizePolicyConfig.parse({ observationSize: 2, actionSize: 2, hidden: [8], init: 0.5, initStd: 0.5, initialStepSize: 0.1 }));
    const p = one.init(5);
    const batches = navigationBatches(one, [p, p], { tasks: 2, episodes: 3, horizon: 10, seed: 3 });
    const ours = adaptWithLearnedStepSizes(one, p, batches, advantages);
    const maml = adaptPolicy(one.base, p.slice(0, one.policyTensors), batches, 0.1, 1, advantages, { fused: false });
    ours.forEach((phi, i) => phi.slice(0, one.policyTensors).forEach((t, k) => t.forEach((v, j) => expect(v).toBeCloseTo(maml[i][k][j], 5))));
  });

  it('generic callers may differentiate the whole list: the learner\'s adaptation leaves alpha as it was', () => {
    const batches = navigationBatches(policy, [params], { tasks: 1, episodes: 2, horizon: 10, seed: 4 });
    const [adapted] = adaptPolicy(policy, params, batches, 0.1, 1, advantages);
    adapted.slice(P).forEach((a, k) => expect(Array.from(a)).toEqual(Array.from(params[P + k])));
    expect(adapted.slice(0, P).some((t, k) => t.some((v, j) => v !== params[k][j]))).toBe(true);
  });
});
