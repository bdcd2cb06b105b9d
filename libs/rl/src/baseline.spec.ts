import { Rng } from '@chameleon/core';
import { NormalMatrixCache, baselineFeatureSize, baselineFeatures, choleskySolve, fitLinearBaseline, normalMatrix, predictFinalValues, predictLinearBaseline } from './baseline';
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

/** The straightforward Cholesky solve (entry by entry, one dot product each), as a reference. */
function plainCholeskySolve(A: Float64Array, b: Float64Array, n: number, reg: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j] + (i === j ? reg : 0);
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
};

describe('normalMatrix', () => {
  it.each([1, 3, 4, 6, 9, 14])('is F^T F entry by entry, bit for bit (d = %i, tiles and edges)', (d) => {
    const rng = new Rng(d);
    const n = 23;
    const r = 19;
    const Ft = Float64Array.from({ length: d * n }, () => rng.normal());
    const A = normalMatrix(Ft, d, n, r);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += Ft[i * n + k] * Ft[j * n + k];
        expect(A[i * d + j]).toBe(s);
      }
    }
  });
});

describe('choleskySolve', () => {
  it.each([1, 2, 4, 5, 8, 11, 37])('equals the straightforward solve to 1e-9 relative (n = %i)', (n) => {
    const rng = new Rng(100 + n);
    const Ft = Float64Array.from({ length: n * (n + 7) }, () => rng.normal());
    const A = normalMatrix(Ft, n, n + 7, n + 7);
    const b = Float64Array.from({ length: n }, () => rng.normal());
    expect(maxRelDiff(choleskySolve(A, b, n, 1e-5)!, plainCholeskySolve(A, b, n, 1e-5))).toBeLessThan(1e-9);
  });

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

  it('equals the straightforward fit (plain normal equations and Cholesky) to 1e-9 relative', () => {
    const rng = new Rng(8);
    const O = 7;
    const b = batchWith([100, 37, 100, 64], 100, O, () => rng.normal());
    const targets = new Float32Array(b.episodes * b.horizon).map(() => rng.normal());
    const d = baselineFeatureSize(O);
    const A = new Float64Array(d * d);
    const rhs = new Float64Array(d);
    const f = new Float64Array(d);
    for (let e = 0; e < b.episodes; e++) {
      for (let t = 0; t < b.horizon; t++) {
        if (!b.mask[e * b.horizon + t]) continue;
        baselineFeatures(b.observations, (e * b.horizon + t) * O, O, t, f);
        for (let i = 0; i < d; i++) {
          rhs[i] += f[i] * targets[e * b.horizon + t];
          for (let j = 0; j < d; j++) A[i * d + j] += f[i] * f[j];
        }
      }
    }
    const fit = fitLinearBaseline(b, targets);
    expect(fit.regCoeff).toBe(1e-5);
    expect(maxRelDiff(fit.weights, plainCholeskySolve(A, rhs, d, 1e-5))).toBeLessThan(1e-9);
  });

  it('with a cache of episodes\' normal matrices, fits as without one (1e-9 relative) and reuses seen episodes', () => {
    const rng = new Rng(9);
    const O = 6;
    // Six episodes; fits on episodes [0..3], then [2..5] (two seen, two new), as a session's rounds.
    const b = batchWith([50, 50, 31, 50, 50, 44], 50, O, () => rng.normal());
    const targets = new Float32Array(b.episodes * b.horizon).map(() => rng.normal());
    const cache = new NormalMatrixCache(3);
    for (const list of [[0, 1, 2, 3], [2, 3, 4, 5]]) {
      const plain = fitLinearBaseline(b, targets, list);
      const cached = fitLinearBaseline(b, targets, list, { normalMatrices: cache });
      expect(maxRelDiff(cached.weights, plain.weights)).toBeLessThan(1e-9);
    }
    // Capacity 3, oldest first out: episodes 3, 4, 5 remain; 2 was evicted.
    expect(cache.size).toBe(3);
    const seen = (e: number) => {
      let computed = false;
      cache.matrixOf(b.observations.subarray(e * 50 * O, (e * 50 + b.mask.subarray(e * 50, e * 50 + 50).reduce((s, m) => s + m, 0)) * O), O, () => {
        computed = true;
        return new Float64Array(baselineFeatureSize(O) ** 2);
      });
      return !computed;
    };
    expect([5, 4, 3].map(seen)).toEqual([true, true, true]);
    // The same length and all but one bit of episode 5's observations is another episode.
    const other = b.observations.slice(5 * 50 * O, (5 * 50 + 44) * O);
    other[17] = Math.fround(other[17] * (1 + 2 ** -20));
    let computed = false;
    cache.matrixOf(other, O, () => {
      computed = true;
      return new Float64Array(1);
    });
    expect(computed).toBe(true);
  });

  it('raises the ridge coefficient when the system is ill-conditioned', () => {
    // Observations of +-10 make o^2 = 100 constant, collinear with the bias feature: singular without a ridge.
    const b = batchWith([5, 5], 5, 1, (_e, t) => (t % 2 ? 10 : -10));
    const fit = fitLinearBaseline(b, new Float32Array(10).fill(1), undefined, { regCoeff: 1e-300 });
    expect(fit.regCoeff).toBeGreaterThan(1e-300);
    expect(fit.weights.every(Number.isFinite)).toBe(true);
  });
});
