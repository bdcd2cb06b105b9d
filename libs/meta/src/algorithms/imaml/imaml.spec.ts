import { initBackend, lossPerTask, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { taskLosses, tileTasks } from '../../adapt';
import { describeAlgorithmContract } from '../common/contract';
import { conjugateGradient } from './cg';
import { Imaml, imamlConfig, supportHvp } from './imaml';

beforeAll(async () => {
  await initBackend('wasm');
});

describeAlgorithmContract('imaml', () => new Imaml());
describeAlgorithmContract('imaml (adam inner loop)', () => new Imaml(imamlConfig.parse({ innerOptimiser: 'adam' })));
describeAlgorithmContract('imaml (newton-cg inner loop)', () => new Imaml(imamlConfig.parse({ innerOptimiser: 'newton-cg' })));

/** A seeded regression batch for a model with `features` inputs: y = x . w_t + noise per task. */
function linearBatch(T: number, K: number, Q: number, features: number, seed: number) {
  const x = (n: number, s: number) => tf.randomUniform([T, n, features], -1, 1, 'float32', s);
  const w = tf.randomNormal([T, features, 1], 0, 1, 'float32', seed);
  const supportX = x(K, seed + 1);
  const queryX = x(Q, seed + 2);
  const y = (xs: Tensor, s: number) => tf.add(tf.matMul(xs, w), tf.randomNormal([T, xs.shape[1]!, 1], 0, 0.1, 'float32', s));
  return { supportX, supportY: y(supportX, seed + 3), queryX, queryY: y(queryX, seed + 4) };
}

/** Solves A x = b in float64 by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

const flat = (ts: readonly Tensor[], t: number) => ts.flatMap((p) => Array.from(tf.gather(p, t).dataSync()));
const maxAbs = (a: number[]) => Math.max(...a.map(Math.abs));

describe('iMAML', () => {
  it('on a quadratic problem the implicit meta-gradient equals the unrolled second-order gradient of a converged inner loop', () => {
    tf.tidy(() => {
      // Linear regression with MSE: the regularised inner problem is a strongly convex
      // quadratic. Gradient descent contracts the error by at most max|1 - lr (h + lambda)|
      // per step: with lr 0.2, lambda 1 and Hessian eigenvalues h in [0, 8] (|x| <= 1, three
      // features and a bias: h <= 2 max |[x 1]|^2 = 8) that is <= 0.8, so after 120 steps the
      // unrolled Jacobian differs from the fixed point's by < 0.8^120 ~ 2.5e-12. CG with as many
      // steps as unknowns (4) is exact. What remains is float32 rounding (~1e-6 relative, times the
      // condition number <= 9 of I + H/lambda): a 1e-4 relative bound separates right from
      // wrong by orders of magnitude (measured: 4e-7; first order is off by 60%).
      const model = new Mlp(mlpConfig.parse({ inputSize: 3, hidden: [], outputSize: 1, init: 0.5 }));
      const batch = linearBatch(4, 6, 8, 3, 7);
      const inner = { steps: 120, learningRate: 0.2 };
      const lambda = 1;
      const theta = model.init(2).map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));
      const implicit = new Imaml(imamlConfig.parse({ lambda, cgSteps: 4 })).metaGradient({ model, params: theta, batch, inner, loss: 'mse' });
      const unrolled = tf.grads((...th: Tensor[]) => {
        const anchor = tileTasks(th, 4);
        let phi = anchor;
        for (let s = 0; s < inner.steps; s++) {
          const g = tf.grads((...p: Tensor[]) => tf.sum(taskLosses(model, p, batch.supportX, batch.supportY, 'mse')))(phi);
          phi = phi.map((p, i) => tf.sub(p, tf.mul(inner.learningRate, tf.add(g[i], tf.mul(lambda, tf.sub(p, anchor[i]))))));
        }
        return tf.mean(lossPerTask('mse', model.forwardPerTask(phi, batch.queryX), batch.queryY)) as tf.Scalar;
      })(theta);
      const a = implicit.grads.flatMap((g) => Array.from(g.dataSync()));
      const b = unrolled.flatMap((g) => Array.from(g.dataSync()));
      const scale = maxAbs(b);
      expect(scale).toBeGreaterThan(1e-2);
      expect(maxAbs(a.map((v, i) => v - b[i]))).toBeLessThan(1e-4 * scale);
      // First order (the query gradient at phi, no (I + H/lambda)^-1) is far off: the test bites.
      const firstOrder = tf.valueAndGrads((...phi: Tensor[]) => tf.mean(lossPerTask('mse', model.forwardPerTask(phi, batch.queryX), batch.queryY)) as tf.Scalar)(
        new Imaml(imamlConfig.parse({ lambda })).adapt({ model, params: theta, supportX: batch.supportX, supportY: batch.supportY, inner, loss: 'mse' }).phi,
      ).grads.flatMap((g) => Array.from(tf.sum(g, 0).dataSync()));
      expect(maxAbs(firstOrder.map((v, i) => v - b[i]))).toBeGreaterThan(0.05 * scale);
    });
  });

  it('Hessian-vector products equal the analytic Hessian of linear least squares', () => {
    tf.tidy(() => {
      const model = new Mlp(mlpConfig.parse({ inputSize: 2, hidden: [], outputSize: 1 }));
      const batch = linearBatch(2, 5, 1, 2, 3);
      const phi = tileTasks(model.init(1).map((v, i) => tf.tensor(v, model.spec[i].shape as number[])), 2);
      const v = [tf.randomNormal([2, 2, 1], 0, 1, 'float32', 5), tf.randomNormal([2, 1], 0, 1, 'float32', 6)];
      const hv = supportHvp(model, phi, batch.supportX, batch.supportY, 'mse', v);
      // L = mean_k (x_k w + b - y_k)^2: H = (2/K) [X 1]^T [X 1].
      for (let t = 0; t < 2; t++) {
        const X = tf.concat([tf.gather(batch.supportX, t), tf.ones([5, 1])], 1);
        const H = tf.mul(2 / 5, tf.matMul(X, X, true, false));
        const want = tf.matMul(H, tf.reshape(tf.concat([tf.reshape(tf.gather(v[0], t), [-1]), tf.gather(v[1], t)]), [3, 1])).dataSync();
        const got = flat(hv, t);
        want.forEach((w, j) => expect(got[j]).toBeCloseTo(w, 5));
      }
    });
  });

  it('conjugate gradient matches a direct solve of (I + H/lambda) g = q on a nonlinear network', () => {
    tf.tidy(() => {
      const model = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [4], outputSize: 1, activation: 'tanh', init: 0.5 }));
      const n = 13;
      const T = 2;
      const batch = linearBatch(T, 6, 1, 1, 11);
      const phi = tileTasks(model.init(3).map((v, i) => tf.tensor(v, model.spec[i].shape as number[])), T);
      const q = model.spec.map((p, i) => tf.randomNormal([T, ...p.shape], 0, 1, 'float32', 40 + i));
      const alg = new Imaml(imamlConfig.parse({ lambda: 2, cgSteps: 2 * n }));
      const cg = alg.implicitGradients(model, phi, batch.supportX, batch.supportY, 'mse', q);
      // The matrix A = I + H/lambda, one column per basis vector, from the same Hessian-vector products.
      const columns: number[][][] = Array.from({ length: T }, () => []);
      for (let j = 0; j < n; j++) {
        let offset = 0;
        const e = model.spec.map((p) => {
          const size = p.shape.reduce((a, b) => a * b, 1);
          const data = new Float32Array(T * size);
          for (let t = 0; t < T; t++) if (j >= offset && j < offset + size) data[t * size + (j - offset)] = 1;
          offset += size;
          return tf.tensor(data, [T, ...p.shape]);
        });
        const hv = supportHvp(model, phi, batch.supportX, batch.supportY, 'mse', e);
        for (let t = 0; t < T; t++) columns[t].push(flat(hv, t).map((h, i) => (i === j ? 1 : 0) + h / 2));
      }
      for (let t = 0; t < T; t++) {
        const A = columns[t][0].map((_, r) => columns[t].map((col) => col[r]));
        // Symmetric, as a Hessian must be.
        for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) expect(A[r][c]).toBeCloseTo(A[c][r], 4);
        const direct = solve(A, flat(q, t));
        const got = flat(cg, t);
        // 26 CG steps on 13 unknowns: exact up to float32 rounding (~1e-7 relative measured).
        expect(maxAbs(got.map((g, i) => g - direct[i]))).toBeLessThan(1e-4 * maxAbs(direct));
      }
      // And CG on a diagonal system is exact per task.
      const b = [tf.tensor([[1, 2], [3, 4]])];
      const x = conjugateGradient((v) => v.map((t) => tf.mul(tf.tensor([[2, 4], [1, 8]]), t)), b, 2)[0].arraySync() as number[][];
      expect(x[0][0]).toBeCloseTo(0.5, 5);
      expect(x[0][1]).toBeCloseTo(0.5, 5);
      expect(x[1][0]).toBeCloseTo(3, 5);
      expect(x[1][1]).toBeCloseTo(0.5, 5);
    });
  });

  it('adapts by the proximal rule: the first step is plain gradient descent, later ones are pulled back toward theta', () => {
    tf.tidy(() => {
      const model = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [8], outputSize: 1, activation: 'tanh', init: 0.5 }));
      const batch = linearBatch(2, 5, 5, 1, 21);
      const theta = model.init(4).map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));
      const adapt = (lambda: number, steps: number) =>
        new Imaml(imamlConfig.parse({ lambda })).adapt({ model, params: theta, supportX: batch.supportX, supportY: batch.supportY, inner: { steps, learningRate: 0.1 }, loss: 'mse' }).phi;
      const dist = (phi: Tensor[]) => phi.reduce((s, p, i) => s + tf.sum(tf.square(tf.sub(p, theta[i]))).dataSync()[0], 0);
      expect(dist(adapt(100, 1))).toBeCloseTo(dist(adapt(1e-6, 1)), 6);
      expect(dist(adapt(5, 20))).toBeLessThan(dist(adapt(1e-6, 20)));
    });
  });

  it('newton-cg: one step solves a quadratic proximal problem exactly, at a curvature where gradient descent diverges', () => {
    tf.tidy(() => {
      // Linear regression (the proximal objective is quadratic, Hessian H + lambda I) with inputs
      // scaled to |x| <= 10: curvatures up to 2 (3 * 10^2 + 1) ~ 600, far above 2/lr - lambda = 10 for GD at lr 0.1, lambda 10.
      const model = new Mlp(mlpConfig.parse({ inputSize: 3, hidden: [], outputSize: 1, init: 0.5 }));
      const raw = linearBatch(3, 6, 4, 3, 31);
      const supportX = tf.mul(10, raw.supportX);
      const lambda = 10;
      const theta = model.init(2).map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));
      const anchor = tileTasks(theta, 3);
      const proxGradNorm = (phi: Tensor[]) => {
        const g = tf.grads((...p: Tensor[]) => tf.sum(taskLosses(model, p, supportX, raw.supportY, 'mse')))(phi);
        return Math.sqrt(g.reduce((s, gi, i) => s + tf.sum(tf.square(tf.add(gi, tf.mul(lambda, tf.sub(phi[i], anchor[i]))))).dataSync()[0], 0));
      };
      const input = { model, params: theta, supportX, supportY: raw.supportY, loss: 'mse' as const };
      const start = proxGradNorm(anchor);
      // 4 CG steps on 4 unknowns: the Newton step lands on the minimiser.
      const newton = new Imaml(imamlConfig.parse({ lambda, cgSteps: 4, innerOptimiser: 'newton-cg' })).adapt({ ...input, inner: { steps: 1, learningRate: 1 } });
      expect(proxGradNorm(newton.phi)).toBeLessThan(1e-3 * start);
      const sl = newton.supportLosses.arraySync() as number[][];
      sl.forEach(([before, after]) => expect(after).toBeLessThan(before));
      const gd = new Imaml(imamlConfig.parse({ lambda })).adapt({ ...input, inner: { steps: 5, learningRate: 0.1 } });
      expect(proxGradNorm(gd.phi)).toBeGreaterThan(start);
    });
  });

  it('conjugate gradient does not step along a direction of negative curvature', () => {
    tf.tidy(() => {
      // Task 0: A = diag(2, 4), SPD. Task 1: A = diag(-1, -1), negative definite: it stays at x = 0.
      const b = [tf.tensor([[1, 2], [3, 4]])];
      const x = conjugateGradient((v) => v.map((t) => tf.mul(tf.tensor([[2, 4], [-1, -1]]), t)), b, 2)[0].arraySync() as number[][];
      expect(x[0][0]).toBeCloseTo(0.5, 5);
      expect(x[0][1]).toBeCloseTo(0.5, 5);
      expect(x[1]).toEqual([0, 0]);
    });
  });
});
