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
  /**
   * Episodes' normal-equation matrices kept across fits: the fit sums them (equal to the
   * all-rows matrix up to float64 rounding) and computes only the episodes it has not seen.
   * Used when every target is finite.
   */
  readonly normalMatrices?: NormalMatrixCache;
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
 *
 * Left-looking and blocked by four rows: for each 4 x 4 tile of L left of the diagonal, the
 * dot products over the columns before the tile accumulate in 16 registers (each L value is
 * loaded once per four products instead of once per product), then the few columns inside
 * the tile finish each entry in order. About 2x faster than entry-by-entry dot products at
 * n = 200 (measured); only the summation order differs.
 */
export function choleskySolve(A: Float64Array, b: Float64Array, n: number, reg = 0): Float64Array | undefined {
  const L = new Float64Array(n * n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, A[i * n + i] + reg);
  const floor = 1e-12 * maxDiag;
  const T = new Float64Array(16);
  for (let i0 = 0; i0 < n; i0 += 4) {
    const rows = Math.min(4, n - i0);
    if (rows === 4) {
      const a0 = i0 * n;
      const a1 = a0 + n;
      const a2 = a1 + n;
      const a3 = a2 + n;
      for (let j0 = 0; j0 < i0; j0 += 4) {
        gramTile(L, a0, a1, a2, a3, j0 * n, n, j0, T);
        for (let a = 0; a < 4; a++) {
          const oi = (i0 + a) * n;
          for (let c = 0; c < 4; c++) {
            const j = j0 + c;
            const oj = j * n;
            let s = T[4 * a + c];
            for (let k = j0; k < j; k++) s += L[oi + k] * L[oj + k];
            L[oi + j] = (A[oi + j] - s) / L[oj + j];
          }
        }
      }
    }
    // The diagonal block (and every column of a short last block) by plain dot products.
    for (let i = i0; i < i0 + rows; i++) {
      const oi = i * n;
      for (let j = rows === 4 ? i0 : 0; j <= i; j++) {
        const oj = j * n;
        let s = 0;
        for (let k = 0; k < j; k++) s += L[oi + k] * L[oj + k];
        s = A[oi + j] - s;
        if (i === j) {
          const p = s + reg;
          if (!(p > floor)) return undefined;
          L[oi + i] = Math.sqrt(p);
        } else {
          L[oi + j] = s / L[oj + j];
        }
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
 * The 4 x 4 tile out[4 a + c] = sum_{k < len} M[ra + k] * M[cc + k] of rows ra = a0..a3
 * against the four rows starting at c0 (stride `stride`), in 16 registers: each loaded value
 * serves four products. Each sum runs over k in order from 0, as a plain dot product does.
 */
function gramTile(M: Float64Array, a0: number, a1: number, a2: number, a3: number, c0: number, stride: number, len: number, out: Float64Array): void {
  const c1 = c0 + stride;
  const c2 = c1 + stride;
  const c3 = c2 + stride;
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  for (let k = 0; k < len; k++) {
    const y0 = M[c0 + k], y1 = M[c1 + k], y2 = M[c2 + k], y3 = M[c3 + k];
    let x = M[a0 + k];
    s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
    x = M[a1 + k];
    s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
    x = M[a2 + k];
    s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
    x = M[a3 + k];
    s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
  }
  out[0] = s00; out[1] = s01; out[2] = s02; out[3] = s03;
  out[4] = s10; out[5] = s11; out[6] = s12; out[7] = s13;
  out[8] = s20; out[9] = s21; out[10] = s22; out[11] = s23;
  out[12] = s30; out[13] = s31; out[14] = s32; out[15] = s33;
}

/**
 * The normal equations' matrix A = Ft Ft^T ([d, d], full, row-major) of the transposed
 * features Ft ([d, *] with row stride `stride`), over its columns [from, from + count).
 * Lower-triangle 4 x 4 tiles in registers ({@link gramTile}: 8 loads per 16 products, against
 * 5 per 4 when each row is taken against four others; about 1.5x faster at d = 200 over 400
 * rows, measured), then mirrored. Every entry is one dot product over the rows in order: the
 * result is the straightforward sum, bit for bit.
 */
export function normalMatrix(Ft: Float64Array, d: number, stride: number, count: number, from = 0): Float64Array {
  const A = new Float64Array(d * d);
  const T = new Float64Array(16);
  const d4 = d - (d % 4);
  for (let i0 = 0; i0 < d4; i0 += 4) {
    const a0 = i0 * stride + from;
    for (let j0 = 0; j0 <= i0; j0 += 4) {
      gramTile(Ft, a0, a0 + stride, a0 + 2 * stride, a0 + 3 * stride, j0 * stride + from, stride, count, T);
      for (let a = 0; a < 4; a++) for (let c = 0; c < 4; c++) A[(i0 + a) * d + j0 + c] = T[4 * a + c];
    }
  }
  for (let i = d4; i < d; i++) {
    const oi = i * stride + from;
    for (let j = 0; j <= i; j++) {
      const oj = j * stride + from;
      let s = 0;
      for (let k = 0; k < count; k++) s += Ft[oi + k] * Ft[oj + k];
      A[i * d + j] = s;
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) A[j * d + i] = A[i * d + j];
  return A;
}

/**
 * Normal-equation matrices of single episodes (the sum of f f^T over their rows), keyed by
 * the episode's observations, for {@link fitLinearBaseline}. Why: the meta-adapter fits the
 * baseline on its K most recent episodes after every round, so with K = 4 and 2 episodes per
 * round each episode's matrix is needed by two consecutive updates of its session, and the
 * matrix is most of the fit's cost (200 features: 20,100 dot products over the rows).
 * Entries are matched by their exact observation bits (a hash finds the candidate, a stored
 * copy confirms it) and evicted oldest first; a hit does not refresh an entry, since an
 * episode is reused only by the next few updates and refreshing would keep spent entries over
 * fresh ones. Each entry holds d^2 float64 values (320 KB at RoboSumo's 98 observations):
 * the default capacity, 128 entries (about 45 MB there), covers 64 sessions at 2 episodes
 * per round.
 *
 * @example
 *   const cache = new NormalMatrixCache();
 *   fitLinearBaseline(batch, returns, undefined, { normalMatrices: cache });
 */
export class NormalMatrixCache {
  private readonly entries = new Map<string, { observations: Uint32Array; matrix: Float64Array }>();

  constructor(readonly capacity = 128) {}

  get size(): number {
    return this.entries.size;
  }

  /** The matrix of the episode with these observations ([len * O] float32), computing and storing it when absent. */
  matrixOf(observations: Float32Array, observationSize: number, compute: () => Float64Array): Float64Array {
    const bits = new Uint32Array(observations.buffer, observations.byteOffset, observations.length);
    let h = 0x811c9dc5;
    for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 0x01000193);
    const key = `${observationSize}:${bits.length}:${h >>> 0}`;
    const hit = this.entries.get(key);
    if (hit && hit.observations.every((v, i) => v === bits[i])) return hit.matrix;
    const matrix = compute();
    this.entries.delete(key);
    this.entries.set(key, { observations: bits.slice(), matrix });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return matrix;
  }
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
  const cache = options.normalMatrices;
  let A: Float64Array;
  if (cache && r === n) {
    A = new Float64Array(d * d);
    let from = 0;
    for (const e of list) {
      const len = episodeLength(batch, e);
      if (len === 0) continue;
      const Ae = cache.matrixOf(batch.observations.subarray(e * H * O, (e * H + len) * O), O, () => normalMatrix(Ft, d, n, len, from));
      for (let i = 0; i < A.length; i++) A[i] += Ae[i];
      from += len;
    }
  } else {
    A = normalMatrix(Ft, d, n, r);
  }
  const rhs = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const oi = i * n;
    let b = 0;
    for (let k = 0; k < r; k++) b += Ft[oi + k] * y[k];
    rhs[i] = b;
  }
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
