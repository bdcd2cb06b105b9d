import { Rng } from '@chameleon/core';
import { initBackend, tf, type Tensor } from '@chameleon/nn';
import { choleskySolve } from './baseline';
import { expN } from './smooth';
import { backtrackingLineSearch, conjugateGradient, hessianVectorProduct, trpoFullStep } from './trpo';

beforeAll(async () => {
  await initBackend('wasm');
});

/** A random SPD matrix M M^T + 0.1 I (row-major, float64) and its product function. */
function spd(n: number, rng: Rng) {
  const M = Array.from({ length: n * n }, () => rng.normal());
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = i === j ? 0.1 : 0;
    for (let k = 0; k < n; k++) s += M[i * n + k] * M[j * n + k];
    A[i * n + j] = s;
  }
  const mul = (v: Float32Array) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i] += A[i * n + j] * v[j];
    return out;
  };
  return { A, mul };
}

describe('conjugate gradient', () => {
  it('matches a direct (Cholesky) solve on a small SPD system, with damping', () => {
    const rng = new Rng(1);
    const n = 6;
    const { A, mul } = spd(n, rng);
    const b = new Float32Array(n).map(() => rng.normal());
    for (const damping of [0, 0.5]) {
      const direct = choleskySolve(A, Float64Array.from(b), n, damping)!;
      const { x, hx, iterations } = conjugateGradient(mul, b, { iters: 50, damping });
      expect(iterations).toBeLessThanOrEqual(2 * n); // exact arithmetic would need n
      x.forEach((v, i) => expect(v).toBeCloseTo(direct[i], 3));
      // H x accumulated from CG's own products equals a direct product.
      const Hx = mul(x);
      hx.forEach((v, i) => expect(v).toBeCloseTo(Hx[i], 4));
    }
  });
});

describe('Hessian-vector product by double backprop', () => {
  it('equals the analytic Hessian of a smooth non-quadratic function times v', () => {
    // f(a, b) = sum(exp(a) * b^2) + sum(a)^2: H = [[diag(e^a b^2) + 11^T, diag(2 e^a b)], [diag(2 e^a b), diag(2 e^a)]].
    const a = Float32Array.from([0.1, -0.3, 0.5]);
    const b = Float32Array.from([1.5, 0.2, -0.7]);
    const v = Float32Array.from([0.3, -1, 0.2, 0.5, 0.1, -0.4]);
    const params = [tf.tensor1d(a), tf.tensor1d(b)];
    const f = (x: Tensor, y: Tensor) => tf.add(tf.sum(tf.mul(expN(x), tf.square(y))), tf.square(tf.sum(x)));
    const hv = hessianVectorProduct(f as (...p: Tensor[]) => Tensor, params, v);
    tf.dispose(params);
    const sumVa = v[0] + v[1] + v[2];
    for (let i = 0; i < 3; i++) {
      const e = Math.exp(a[i]);
      expect(hv[i]).toBeCloseTo(e * b[i] * b[i] * v[i] + 2 * sumVa + 2 * e * b[i] * v[3 + i], 4);
      expect(hv[3 + i]).toBeCloseTo(2 * e * b[i] * v[i] + 2 * e * v[3 + i], 4);
    }
  });
});

describe('TRPO step', () => {
  it('scales the natural-gradient step so that the quadratic KL model equals maxKl', () => {
    const rng = new Rng(2);
    const { mul } = spd(5, rng);
    const g = new Float32Array(5).map(() => rng.normal());
    const { step, quadraticKl } = trpoFullStep(g, mul, { maxKl: 0.01, cgIters: 20, damping: 0 });
    const Hs = mul(step);
    expect(0.5 * step.reduce((s, v, i) => s + v * Hs[i], 0)).toBeCloseTo(0.01, 5);
    expect(quadraticKl).toBeCloseTo(0.01, 5);
    expect(step.reduce((s, v, i) => s + v * g[i], 0)).toBeGreaterThan(0); // an ascent direction
  });
});

describe('backtracking line search', () => {
  it('never accepts a step whose KL exceeds maxKl or whose surrogate does not improve (random problems)', () => {
    const rng = new Rng(3);
    let accepted = 0;
    for (let trial = 0; trial < 500; trial++) {
      const n = 1 + rng.int(8);
      const x0 = new Float32Array(n).map(() => rng.normal());
      const step = new Float32Array(n).map(() => rng.normal() * 10 ** rng.uniform(-3, 1));
      const { mul } = spd(n, rng);
      const lin = new Float32Array(n).map(() => rng.normal());
      const cubic = rng.uniform(0, 2);
      const nanAbove = rng.next() < 0.1 ? rng.uniform(0, 5) : Infinity;
      // A non-quadratic KL (so its quadratic model can be wrong) and a surrogate with curvature.
      const kl = (x: Float32Array) => {
        const d = x.map((v, i) => v - x0[i]);
        const r = Math.sqrt(d.reduce((s, v) => s + v * v, 0));
        if (r > nanAbove) return Number.NaN;
        const Hd = mul(d);
        return 0.5 * d.reduce((s, v, i) => s + v * Hd[i], 0) + cubic * r ** 3;
      };
      const surrogate = (x: Float32Array) => x.reduce((s, v, i) => s + lin[i] * (v - x0[i]) - 0.3 * (v - x0[i]) ** 2, 0);
      const maxKl = 10 ** rng.uniform(-4, 0);
      const opts = { maxKl, backtrackRatio: rng.next() < 0.5 ? 0.8 : 0.5, maxBacktracks: 15 };
      const res = backtrackingLineSearch(x0, step, (x) => ({ surrogate: surrogate(x), kl: kl(x) }), 0, opts);
      if (res.accepted) {
        accepted++;
        expect(kl(res.x)).toBeLessThanOrEqual(maxKl);
        expect(surrogate(res.x)).toBeGreaterThan(0);
        expect(res.kl).toBe(kl(res.x));
      } else {
        expect(res.x).toBe(x0);
      }
      expect(res.steps).toBeLessThanOrEqual(15);
    }
    // The property is not vacuous: many problems do accept a step.
    expect(accepted).toBeGreaterThan(100);
  });

  it('tries ratio^k of the full step and reports how many tries it took', () => {
    const tried: number[] = [];
    const res = backtrackingLineSearch(Float32Array.from([0]), Float32Array.from([1]), (x) => (tried.push(x[0]), { surrogate: x[0], kl: x[0] * x[0] }), 0, { maxKl: 0.3, backtrackRatio: 0.5, maxBacktracks: 15 });
    expect(tried).toEqual([1, 0.5]);
    expect(res).toMatchObject({ accepted: true, steps: 2, surrogate: 0.5, kl: 0.25 });
  });
});
