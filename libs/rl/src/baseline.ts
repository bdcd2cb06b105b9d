import { invalidArgument } from '@chameleon/core';
import { episodeLength, type TrajectoryBatch } from './trajectory';

/**
 * The linear feature baseline of Duan et al. (2016), as MAML-RL uses it: a ridge regression
 * of returns on [o, o^2, t/100, (t/100)^2, (t/100)^3, 1] (o clipped to [-10, 10]),
 * fitted by Cholesky on the normal equations in float64.
 */
export interface LinearBaseline {
  readonly observationSize: number;
  /** [2 * obs + 4] regression weights. */
  readonly weights: Float64Array;
  /** The ridge coefficient that was finally used. */
  readonly regCoeff: number;
}

export interface BaselineFitOptions {
  /** First ridge coefficient. Default 1e-5 (rllab). */
  readonly regCoeff?: number;
  /** Multiply the coefficient by 10 at most this many times while the system is ill-conditioned. Default 10. */
  readonly maxTries?: number;
}

export const baselineFeatureSize = (observationSize: number) => 2 * observationSize + 4;

/** Writes the features of observation `obs[off .. off + O)` at step t into `out`. */
export function baselineFeatures(obs: ArrayLike<number>, off: number, observationSize: number, t: number, out: Float64Array): Float64Array {
  for (let i = 0; i < observationSize; i++) {
    const o = Math.min(10, Math.max(-10, obs[off + i]));
    out[i] = o;
    out[observationSize + i] = o * o;
  }
  const s = t / 100;
  const k = 2 * observationSize;
  out[k] = s;
  out[k + 1] = s * s;
  out[k + 2] = s * s * s;
  out[k + 3] = 1;
  return out;
}

/**
 * Solves (A + reg I) x = b for symmetric positive semi-definite A (n x n, row-major) by
 * Cholesky. Returns undefined when a pivot is not clearly positive relative to the largest
 * diagonal (ill-conditioned: the caller raises reg).
 */
export function choleskySolve(A: Float64Array, b: Float64Array, n: number, reg = 0): Float64Array | undefined {
  const L = new Float64Array(n * n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, A[i * n + i] + reg);
  const floor = 1e-12 * maxDiag;
  for (let i = 0; i < n; i++) {
    const oi = i * n;
    for (let j = 0; j <= i; j++) {
      const oj = j * n;
      let s0 = 0;
      let s1 = 0;
      let k = 0;
      for (; k + 1 < j; k += 2) {
        s0 += L[oi + k] * L[oj + k];
        s1 += L[oi + k + 1] * L[oj + k + 1];
      }
      if (k < j) s0 += L[oi + k] * L[oj + k];
      const s = A[oi + j] - (s0 + s1);
      if (i === j) {
        const p = s + reg;
        if (!(p > floor)) return undefined;
        L[oi + i] = Math.sqrt(p);
      } else {
        L[oi + j] = s / L[oj + j];
      }
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
  return x.every(Number.isFinite) ? x : undefined;
}

/**
 * Fits the baseline to `targets` [E, H] (usually discounted returns) on the real steps of
 * the given episodes (default all). Raises the ridge coefficient tenfold while the system is
 * ill-conditioned; if it never becomes solvable the weights are zero (a zero baseline), so
 * the result is always finite.
 *
 * @example
 *   const b = fitLinearBaseline(batch, discountedReturns(batch, 0.99));
 *   const values = predictLinearBaseline(b, batch);
 */
export function fitLinearBaseline(batch: TrajectoryBatch, targets: Float32Array, episodes?: readonly number[], options: BaselineFitOptions = {}): LinearBaseline {
  const { horizon: H, observationSize: O } = batch;
  if (targets.length !== batch.episodes * H) throw invalidArgument('targets', `must hold ${batch.episodes} x ${H} values, got ${targets.length}`);
  const d = baselineFeatureSize(O);
  // Features of the real, finite rows, transposed ([d, n], one row per feature) so that each
  // entry of the normal equations is one contiguous dot product held in a register.
  const list = episodes ?? Array.from({ length: batch.episodes }, (_, i) => i);
  let n = 0;
  for (const e of list) n += episodeLength(batch, e);
  const Ft = new Float64Array(d * n);
  const y = new Float64Array(n);
  const f = new Float64Array(d);
  let r = 0;
  for (const e of list) {
    const len = episodeLength(batch, e);
    for (let t = 0; t < len; t++) {
      const target = targets[e * H + t];
      if (!Number.isFinite(target)) continue;
      baselineFeatures(batch.observations, (e * H + t) * O, O, t, f);
      for (let i = 0; i < d; i++) Ft[i * n + r] = f[i];
      y[r++] = target;
    }
  }
  const A = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const oi = i * n;
    let b = 0;
    for (let k = 0; k < r; k++) b += Ft[oi + k] * y[k];
    rhs[i] = b;
    // Lower triangle, four columns per pass so that each Ft[i] value is loaded once per four products.
    let j = 0;
    for (; j + 3 <= i; j += 4) {
      const o0 = j * n;
      const o1 = o0 + n;
      const o2 = o1 + n;
      const o3 = o2 + n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < r; k++) {
        const a = Ft[oi + k];
        s0 += a * Ft[o0 + k];
        s1 += a * Ft[o1 + k];
        s2 += a * Ft[o2 + k];
        s3 += a * Ft[o3 + k];
      }
      A[i * d + j] = s0;
      A[i * d + j + 1] = s1;
      A[i * d + j + 2] = s2;
      A[i * d + j + 3] = s3;
    }
    for (; j <= i; j++) {
      const oj = j * n;
      let s0 = 0;
      for (let k = 0; k < r; k++) s0 += Ft[oi + k] * Ft[oj + k];
      A[i * d + j] = s0;
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) A[j * d + i] = A[i * d + j];
  let reg = options.regCoeff ?? 1e-5;
  const tries = options.maxTries ?? 10;
  for (let k = 0; k <= tries; k++, reg *= 10) {
    const w = choleskySolve(A, rhs, d, reg);
    if (w) return { observationSize: O, weights: w, regCoeff: reg };
  }
  return { observationSize: O, weights: new Float64Array(d), regCoeff: Number.POSITIVE_INFINITY };
}

function dotFeatures(b: LinearBaseline, obs: ArrayLike<number>, off: number, t: number, f: Float64Array): number {
  baselineFeatures(obs, off, b.observationSize, t, f);
  let v = 0;
  for (let i = 0; i < f.length; i++) v += f[i] * b.weights[i];
  return v;
}

/** Baseline values at every real step [E, H] (0 on padding). */
export function predictLinearBaseline(b: LinearBaseline, batch: TrajectoryBatch, episodes?: readonly number[], out?: Float32Array): Float32Array {
  const { horizon: H, observationSize: O } = batch;
  const values = out ?? new Float32Array(batch.episodes * H);
  const f = new Float64Array(baselineFeatureSize(O));
  for (const e of episodes ?? Array.from({ length: batch.episodes }, (_, i) => i)) {
    const len = episodeLength(batch, e);
    for (let t = 0; t < len; t++) values[e * H + t] = dotFeatures(b, batch.observations, (e * H + t) * O, t, f);
  }
  return values;
}

/** Baseline value of each episode's final observation, at step index = its length [E]. */
export function predictFinalValues(b: LinearBaseline, batch: TrajectoryBatch, episodes?: readonly number[], out?: Float32Array): Float32Array {
  const values = out ?? new Float32Array(batch.episodes);
  const f = new Float64Array(baselineFeatureSize(batch.observationSize));
  for (const e of episodes ?? Array.from({ length: batch.episodes }, (_, i) => i)) {
    values[e] = dotFeatures(b, batch.finalObservations, e * batch.observationSize, episodeLength(batch, e), f);
  }
  return values;
}
