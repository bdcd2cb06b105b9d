import { Rng } from '@chameleon/core';
import { baselineFeatureSize, baselineFeatures, choleskySolve, fitLinearBaseline, predictFinalValues, predictLinearBaseline } from './baseline';
import { emptyBatch, type TrajectoryBatch } from './trajectory';

/** A batch whose episodes have the given lengths, observations from `obs(e, t, i)`. */
function batchWith(lengths: number[], H: number, O: number, obs: (e: number, t: number, i: number) => number): TrajectoryBatch {
  const b = emptyBatch(lengths.length, H, O, 1);
  lengths.forEach((len, e) => {
    for (let t = 0; t < len; t++) {
      b.mask[e * H + t] = 1;
      b.discounts[e * H + t] = 1;
      for (let i = 0; i < O; i++) b.observations[(e * H + t) * O + i] = obs(e, t, i);
    }
    for (let i = 0; i < O; i++) b.finalObservations[e * O + i] = obs(e, len, i);
  });
  return b;
}

describe('choleskySolve', () => {
  it('solves a small SPD system exactly and refuses a singular one', () => {
    const A = Float64Array.from([4, 2, 0.6, 2, 5, 1, 0.6, 1, 3]);
    const x = choleskySolve(A, Float64Array.from([1, 2, 3]), 3)!;
    const Ax = [0, 1, 2].map((i) => A[3 * i] * x[0] + A[3 * i + 1] * x[1] + A[3 * i + 2] * x[2]);
    Ax.forEach((v, i) => expect(v).toBeCloseTo([1, 2, 3][i], 12));
    expect(choleskySolve(Float64Array.from([1, 1, 1, 1]), Float64Array.from([1, 1]), 2)).toBeUndefined();
    expect(choleskySolve(Float64Array.from([1, 1, 1, 1]), Float64Array.from([1, 1]), 2, 1e-3)).toBeDefined();
  });
});

describe('linear feature baseline (Duan et al. 2016)', () => {
  it('has features [o, o^2, t/100, (t/100)^2, (t/100)^3, 1] with o clipped to [-10, 10]', () => {
    const f = baselineFeatures([2, -30], 0, 2, 50, new Float64Array(baselineFeatureSize(2)));
    expect(Array.from(f)).toEqual([2, -10, 4, 100, 0.5, 0.25, 0.125, 1]);
  });

  it('recovers a known linear model from its exact values', () => {
    const rng = new Rng(3);
    const O = 3;
    const w = Array.from({ length: baselineFeatureSize(O) }, () => rng.normal());
    // Episodes up to t = 200 spread t/100 over [0, 2], so the cubic time features are identifiable.
    const b = batchWith([200, 150, 180, 120], 200, O, () => rng.uniform(-2, 2));
    const targets = new Float32Array(b.episodes * b.horizon);
    const f = new Float64Array(w.length);
    for (let e = 0; e < b.episodes; e++) {
      for (let t = 0; t < b.horizon; t++) {
        if (!b.mask[e * b.horizon + t]) continue;
        baselineFeatures(b.observations, (e * b.horizon + t) * O, O, t, f);
        targets[e * b.horizon + t] = f.reduce((s, v, i) => s + v * w[i], 0);
      }
    }
    const fit = fitLinearBaseline(b, targets);
    fit.weights.forEach((v, i) => expect(v).toBeCloseTo(w[i], 2));
    const pred = predictLinearBaseline(fit, b);
    pred.forEach((p, i) => expect(p).toBeCloseTo(targets[i], 3));
    // Padding predicts 0; final values use the step index = episode length.
    expect(pred[200 * 3 + 150]).toBe(0);
    const finals = predictFinalValues(fit, b);
    baselineFeatures(b.finalObservations, 0, O, 200, f);
    expect(finals[0]).toBeCloseTo(f.reduce((s, v, i) => s + v * w[i], 0), 3);
  });

  it('fits only the given episodes (per task)', () => {
    const b = batchWith([10, 10], 10, 1, (e, t) => (e === 0 ? t / 10 : -t / 10));
    const targets = new Float32Array(20).map((_, i) => (i < 10 ? 1 : 5));
    const a = fitLinearBaseline(b, targets, [0]);
    const c = fitLinearBaseline(b, targets, [1]);
    predictLinearBaseline(a, b, [0]).subarray(0, 10).forEach((v) => expect(v).toBeCloseTo(1, 3));
    predictLinearBaseline(c, b, [1]).subarray(10).forEach((v) => expect(v).toBeCloseTo(5, 3));
  });

  it.each([
    ['no real steps', batchWith([0, 0], 5, 2, () => 0)],
    ['one step', batchWith([1], 5, 2, () => 0.3)],
    ['constant observations (collinear features)', batchWith([5, 5], 5, 2, () => 1)],
    ['all-zero observations', batchWith([5, 4], 5, 2, () => 0)],
    ['huge observations (clipped)', batchWith([5, 5], 5, 2, (_e, t) => 1e30 * (t - 2))],
  ])('stays finite on degenerate input: %s', (_name, b) => {
    const targets = new Float32Array(b.episodes * b.horizon).map((_, i) => (i % 3) * 1e3);
    const fit = fitLinearBaseline(b, targets);
    expect(fit.weights.every(Number.isFinite)).toBe(true);
    expect(predictLinearBaseline(fit, b).every(Number.isFinite)).toBe(true);
    expect(predictFinalValues(fit, b).every(Number.isFinite)).toBe(true);
  });

  it('raises the ridge coefficient when the system is ill-conditioned', () => {
    // Observations of +-10 make o^2 = 100 constant, collinear with the bias feature: singular without a ridge.
    const b = batchWith([5, 5], 5, 1, (_e, t) => (t % 2 ? 10 : -10));
    const fit = fitLinearBaseline(b, new Float32Array(10).fill(1), undefined, { regCoeff: 1e-300 });
    expect(fit.regCoeff).toBeGreaterThan(1e-300);
    expect(fit.weights.every(Number.isFinite)).toBe(true);
  });
});
