import { z } from 'zod';
import { invalidArgument } from '@chameleon/core';
import { tf, type Tensor } from '@chameleon/nn';

/** Host vectors (Float32Array) for everything TRPO does between tfjs calls. */
export type HvpFn = (v: Float32Array) => Float32Array;

export const trpoConfig = z
  .object({
    /** KL trust region delta: no accepted step has mean KL above it. Default 0.01 (MAML-RL). */
    maxKl: z.number().positive().default(0.01),
    /** Conjugate-gradient iterations. Default 10. */
    cgIters: z.number().int().min(1).max(1000).default(10),
    /** Damping: CG solves (H + damping I) x = g. Default 1e-5 (rllab's reg_coeff). */
    damping: z.number().min(0).default(1e-5),
    /** Backtracking factor per line-search try. Default 0.8 (rllab); 0.5 is the other common choice. */
    backtrackRatio: z.number().gt(0).lt(1).default(0.8),
    /** Line-search tries before the step is rejected. Default 15. */
    maxBacktracks: z.number().int().min(1).max(100).default(15),
  })
  .strict();
export type TrpoConfig = z.infer<typeof trpoConfig>;

export const dotHost = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/**
 * Conjugate gradient for (H + damping I) x = b with H symmetric positive semi-definite,
 * given only products H v. Accumulates in float64; stops early once the squared residual
 * falls below `tolerance`.
 *
 * @example
 *   const { x } = conjugateGradient((v) => hvp(v), g, { iters: 10, damping: 1e-5 });
 */
export function conjugateGradient(hvp: HvpFn, b: Float32Array, opts: { iters: number; damping?: number; tolerance?: number }): { x: Float32Array; hx: Float32Array; iterations: number; residual: number } {
  const n = b.length;
  const damping = opts.damping ?? 0;
  const tol = opts.tolerance ?? 1e-10;
  const x = new Float64Array(n);
  // H x (without damping) as sum_k alpha_k H p_k, from the products CG computes anyway.
  const hx = new Float64Array(n);
  const r = Float64Array.from(b);
  const p = Float64Array.from(b);
  let rr = r.reduce((s, v) => s + v * v, 0);
  let it = 0;
  for (; it < opts.iters && rr > tol; it++) {
    const Hp = hvp(Float32Array.from(p));
    let pHp = 0;
    for (let i = 0; i < n; i++) pHp += p[i] * (Hp[i] + damping * p[i]);
    if (!(pHp > 0)) break; // not positive definite along p (or NaN): keep what we have
    const alpha = rr / pHp;
    let rrNew = 0;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * p[i];
      hx[i] += alpha * Hp[i];
      r[i] -= alpha * (Hp[i] + damping * p[i]);
      rrNew += r[i] * r[i];
    }
    const beta = rrNew / rr;
    for (let i = 0; i < n; i++) p[i] = r[i] + beta * p[i];
    rr = rrNew;
  }
  return { x: Float32Array.from(x), hx: Float32Array.from(hx), iterations: it, residual: Math.sqrt(rr) };
}

/**
 * Hessian-vector product of a scalar function of a parameter list by double backprop:
 * H v = grad_theta (grad_theta f(theta) . v). `f` must be twice differentiable in theta
 * (MAML-RL's KL through the inner step needs every op thrice differentiable: see smooth.ts).
 * One tfjs call; the result is downloaded outside the tidy.
 */
export function hessianVectorProduct(f: (...params: Tensor[]) => Tensor, params: readonly Tensor[], v: Float32Array): Float32Array {
  const total = params.reduce((s, p) => s + p.size, 0);
  if (v.length !== total) throw invalidArgument('v', `must hold ${total} values (the parameter count), got ${v.length}`);
  const hv = tf.tidy(() => {
    const vs = unflattenToTensors(v, params);
    const gv = (...p: Tensor[]) => {
      const g = tf.grads((...q: Tensor[]) => f(...q))(p);
      return tf.addN(g.map((gi, i) => tf.sum(tf.mul(gi, vs[i])))) as tf.Scalar;
    };
    return flattenTensors(tf.grads(gv)([...params]));
  });
  const out = hv.dataSync() as Float32Array;
  hv.dispose();
  return out;
}

/** Concatenates flattened tensors into one vector tensor. */
export const flattenTensors = (ts: readonly Tensor[]): Tensor => tf.concat(ts.map((t) => tf.reshape(t, [-1])));

/** Splits a host vector into tensors shaped like `like`. */
export function unflattenToTensors(v: Float32Array, like: readonly { shape: readonly number[]; size: number }[]): Tensor[] {
  let off = 0;
  return like.map((p) => {
    const t = tf.tensor(v.subarray(off, off + p.size), p.shape as number[]);
    off += p.size;
    return t;
  });
}

/** Concatenates host parameter arrays. */
export function flattenHost(params: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(params.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of params) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Splits a host vector into arrays of the given sizes (copies). */
export function unflattenHost(v: Float32Array, sizes: readonly number[]): Float32Array[] {
  let off = 0;
  return sizes.map((n) => v.slice(off, (off += n)));
}

export interface LineSearchResult {
  /** The accepted point, or x0 itself when no try was acceptable. */
  readonly x: Float32Array;
  readonly accepted: boolean;
  /** Tries evaluated (1 = the full step was accepted). */
  readonly steps: number;
  /** Surrogate and KL at the returned point (x0's: `before` and 0 when rejected). */
  readonly surrogate: number;
  readonly kl: number;
}

/**
 * TRPO's backtracking line search, maximising: tries x0 + ratio^k fullStep for
 * k = 0..maxBacktracks-1 and accepts the first point whose surrogate is finite and strictly
 * above `before` AND whose KL is finite and <= maxKl. If none qualifies it returns x0:
 * a step over the KL bound is never accepted.
 */
export function backtrackingLineSearch(
  x0: Float32Array,
  fullStep: Float32Array,
  evaluate: (x: Float32Array) => { surrogate: number; kl: number },
  before: number,
  opts: { maxKl: number; backtrackRatio: number; maxBacktracks: number },
): LineSearchResult {
  let scale = 1;
  for (let k = 0; k < opts.maxBacktracks; k++, scale *= opts.backtrackRatio) {
    const x = new Float32Array(x0.length);
    for (let i = 0; i < x.length; i++) x[i] = x0[i] + scale * fullStep[i];
    const { surrogate, kl } = evaluate(x);
    if (Number.isFinite(surrogate) && Number.isFinite(kl) && surrogate > before && kl <= opts.maxKl) return { x, accepted: true, steps: k + 1, surrogate, kl };
  }
  return { x: x0, accepted: false, steps: opts.maxBacktracks, surrogate: before, kl: 0 };
}

/**
 * The natural-gradient step of TRPO: x = (H + damping I)^-1 g by CG, scaled so that the
 * quadratic model of the KL, x^T (H + damping I) x / 2, equals maxKl: step = sqrt(2 maxKl /
 * x^T (H + damping I) x) x. H x is not computed again: x = sum_k alpha_k p_k, so
 * H x = sum_k alpha_k H p_k from CG's own products (linearity; it saves one HVP in eleven).
 */
export function trpoFullStep(g: Float32Array, hvp: HvpFn, config: Pick<TrpoConfig, 'maxKl' | 'cgIters' | 'damping'>): { step: Float32Array; cgIterations: number; quadraticKl: number } {
  const { x, hx: Hx, iterations } = conjugateGradient(hvp, g, { iters: config.cgIters, damping: config.damping });
  let xHx = 0;
  for (let i = 0; i < x.length; i++) xHx += x[i] * (Hx[i] + config.damping * x[i]);
  const scale = xHx > 0 && Number.isFinite(xHx) ? Math.sqrt((2 * config.maxKl) / xHx) : 0;
  return { step: x.map((v) => v * scale), cgIterations: iterations, quadraticKl: 0.5 * xHx * scale * scale };
}
