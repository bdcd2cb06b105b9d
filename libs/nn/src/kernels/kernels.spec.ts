import { maxRelError } from '../compare';
import { initBackend } from '../backend';
import { tf, type Tensor } from '../tf';
import { columnSum, dense, matMulT, mulAdd2, relu, reluMask, taskMatMul, taskMatMulReference, wasmKernelsActive } from './index';

beforeAll(async () => {
  await initBackend('wasm');
});

// float32 has ~6e-8 relative precision; sums of <= 250 products in another order differ by
// at most ~1e-6 relative in practice. 1e-5 leaves margin yet catches any indexing error (O(1)).
const TOL = 1e-5;

/** Value and gradients of sum(w * f(a, b)) for random w: exercises the registered gradient. */
function withGrads(f: (a: Tensor, b: Tensor) => Tensor, a: Tensor, b: Tensor): Tensor[] {
  const y = f(a, b);
  const w = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
  const g = tf.grads((x: Tensor, z: Tensor) => tf.sum(tf.mul(w, f(x, z))))([a, b]);
  return [y, ...g];
}

const shapes: Array<[number, number, number, number]> = [
  [25, 10, 40, 10], [25, 10, 10, 40], [3, 7, 5, 3], [2, 1, 1, 1], [4, 10, 1, 40], [4, 10, 40, 1], [1, 250, 40, 40],
];

describe('taskMatMul', () => {
  it('runs on the SIMD kernel on wasm (otherwise these tests would compare the reference with itself)', () => {
    expect(wasmKernelsActive()).toBe(true);
  });

  describe.each(['nn', 'nt', 'tn'] as const)('%s', (variant) => {
    const ta = variant === 'tn';
    const tb = variant === 'nt';
    it.each(shapes)('matches tf.matMul per task, value and gradients, T=%i m=%i k=%i n=%i', (T, m, k, n) => {
      tf.tidy(() => {
        for (const layout of ['3d', 'rows'] as const) {
          const shape = (r: number, c: number) => (layout === '3d' ? [T, r, c] : [T * r, c]);
          const a = tf.randomNormal(ta ? shape(k, m) : shape(m, k), 0, 1, 'float32', 1);
          const b = tf.randomNormal(tb ? shape(n, k) : shape(k, n), 0, 1, 'float32', 2);
          const opts = { transposeA: ta, transposeB: tb, plus: variant === 'nt' ? 1 : 0.25 };
          const got = withGrads((x, y) => taskMatMul(x, y, T, opts), a, b);
          const want = withGrads((x, y) => taskMatMulReference(x, y, T, opts), a, b);
          got.forEach((g, i) => expect(maxRelError(g, want[i])).toBeLessThan(TOL));
        }
      });
    });
  });

  it.each(['nn', 'nt', 'tn'])('%s: base + scale * product, with gradients for a, b and base', (variant) => {
    tf.tidy(() => {
      const [T, m, k, n] = [5, 10, 6, 7];
      const ta = variant === 'tn';
      const tb = variant === 'nt';
      const a = tf.randomNormal(ta ? [T * k, m] : [T * m, k], 0, 1, 'float32', 21);
      const b = tf.randomNormal(tb ? [T * n, k] : [T * k, n], 0, 1, 'float32', 22);
      const base = tf.randomNormal([T * m, n], 0, 1, 'float32', 23);
      const w = tf.randomNormal([T * m, n], 0, 1, 'float32', 24);
      const both = (f: typeof taskMatMul) =>
        tf.grads((x: Tensor, y: Tensor, z: Tensor) => tf.sum(tf.mul(w, f(x, y, T, { transposeA: ta, transposeB: tb, base: z, scale: -1.5, plus: 0.5 }))))([a, b, base]);
      const got = both(taskMatMul);
      const want = both(taskMatMulReference);
      got.forEach((g, i) => expect(maxRelError(g, want[i])).toBeLessThan(TOL));
      const value = taskMatMul(a, b, T, { transposeA: ta, transposeB: tb, base, scale: -1.5, plus: 0.5 });
      expect(maxRelError(value, taskMatMulReference(a, b, T, { transposeA: ta, transposeB: tb, base, scale: -1.5, plus: 0.5 }))).toBeLessThan(TOL);
    });
  });

  // The register-tiled loop (widths that are multiples of 4, rows not a multiple of the tile),
  // long reductions cut into chunks (k > 256), a per-task transposed B (>= 16 rows per task).
  const tall: Array<[number, number, number, number]> = [[3, 37, 64, 64], [2, 41, 20, 12], [2, 18, 100, 100], [20, 50, 2, 64], [1, 600, 8, 16], [2, 16, 600, 20]];
  describe.each(['nn', 'nt', 'tn'] as const)('%s on tall blocks', (variant) => {
    it.each(tall)('matches tf.matMul per task with base and bias, value and gradients, T=%i m=%i k=%i n=%i', (T, m, k, n) => {
      tf.tidy(() => {
        const ta = variant === 'tn';
        const tb = variant === 'nt';
        const a = tf.randomNormal(ta ? [T * k, m] : [T * m, k], 0, 1, 'float32', 31);
        const b = tf.randomNormal(tb ? [T * n, k] : [T * k, n], 0, 1, 'float32', 32);
        const base = tf.randomNormal([T * m, n], 0, 1, 'float32', 33);
        for (const bias of [tf.randomNormal([n], 0, 1, 'float32', 34), tf.randomNormal([T, n], 0, 1, 'float32', 35)]) {
          const opts = { transposeA: ta, transposeB: tb, scale: 0.5, plus: 0.25 };
          const f = (mm: typeof taskMatMul) => (x: Tensor, y: Tensor, z: Tensor, c: Tensor) => mm(x, y, T, { ...opts, base: z, bias: c });
          const w = tf.randomNormal([T * m, n], 0, 1, 'float32', 36);
          const all = (mm: typeof taskMatMul) => [f(mm)(a, b, base, bias), ...tf.grads((x: Tensor, y: Tensor, z: Tensor, c: Tensor) => tf.sum(tf.mul(w, f(mm)(x, y, z, c))))([a, b, base, bias])];
          const got = all(taskMatMul);
          const want = all(taskMatMulReference);
          got.forEach((g, i) => expect(maxRelError(g, want[i])).toBeLessThan(TOL));
        }
      });
    });
  });

  it('refuses a bias of the wrong shape', () => {
    tf.tidy(() => expect(() => taskMatMul(tf.zeros([8, 3]), tf.zeros([6, 4]), 2, { bias: tf.zeros([3, 4]) })).toThrow(/bias/));
  });

  it('refuses blocks that do not match the task count', () => {
    tf.tidy(() => expect(() => taskMatMul(tf.zeros([7, 3]), tf.zeros([7, 3]), 2)).toThrow(/task blocks/));
  });
});

describe('dense, matMulT and columnSum', () => {
  // [in, out]: XNNPACK for 40 x 40, the SIMD loops for a thin layer (1 input or 1 output).
  it.each([[40, 40], [1, 40], [40, 1], [3, 5]])('dense [250, %i] . [%i, out] + b equals x . w + b, with the same gradients', (inputs, outputs) => {
    tf.tidy(() => {
      const x = tf.randomNormal([250, inputs], 0, 1, 'float32', 4);
      const w = tf.randomNormal([inputs, outputs], 0, 1, 'float32', 5);
      const b = tf.randomNormal([outputs], 0, 1, 'float32', 6);
      const loss = (f: (x: Tensor, w: Tensor, b: Tensor) => Tensor) =>
        tf.grads((p: Tensor, q: Tensor, r: Tensor) => tf.sum(tf.square(f(p, q, r))))([x, w, b]);
      const got = loss(dense);
      const want = loss((p, q, r) => tf.add(tf.matMul(p, q), r));
      got.forEach((g, i) => expect(maxRelError(g, want[i])).toBeLessThan(TOL));
    });
  });

  const flags: Array<[boolean, boolean]> = [[false, false], [false, true], [true, false], [true, true]];
  // [m, k, n]: XNNPACK for the wide product, the SIMD loops when a dimension is thin.
  const sizes = [[30, 40, 20], [250, 1, 40], [1, 250, 40], [250, 40, 1], [7, 3, 6]];
  it.each(flags.flatMap(([ta, tb]) => sizes.map(([m, k, n]) => [ta, tb, m, k, n] as const)))('matMulT(transposeA=%s, transposeB=%s) [%i x %i] . [. x %i] equals tf.matMul', (ta, tb, m, k, n) => {
    tf.tidy(() => {
      const a = tf.randomNormal(ta ? [k, m] : [m, k], 0, 1, 'float32', 7);
      const b = tf.randomNormal(tb ? [n, k] : [k, n], 0, 1, 'float32', 8);
      const got = withGrads((x, y) => matMulT(x, y, ta, tb), a, b);
      const want = withGrads((x, y) => tf.matMul(x, y, ta, tb), a, b);
      got.forEach((g, i) => expect(maxRelError(g, want[i])).toBeLessThan(TOL));
    });
  });

  it('keeps a [n, 1] operand correct when the same tensor is also used untransposed', () => {
    // XNNPACK caches packed weights per tensor: a reshaped view of the same data would be wrong.
    tf.tidy(() => {
      const w = tf.randomNormal([40, 1], 0, 1, 'float32', 9);
      const x = tf.randomNormal([25, 40], 0, 1, 'float32', 10);
      const d = tf.randomNormal([25, 1], 0, 1, 'float32', 11);
      expect(maxRelError(dense(x, w, tf.zeros([1])), tf.matMul(x, w))).toBeLessThan(TOL);
      expect(maxRelError(matMulT(d, w, false, true), tf.matMul(d, w, false, true))).toBeLessThan(TOL);
    });
  });
});

describe('columnSum', () => {
  it.each([[250, 40], [7, 3], [1, 1]])('equals tf.sum(x, 0) for [%i, %i], with the same gradient', (rows, cols) => {
    tf.tidy(() => {
      const x = tf.randomNormal([rows, cols], 0, 1, 'float32', 14);
      const w = tf.randomNormal([cols], 0, 1, 'float32', 15);
      expect(maxRelError(columnSum(x), tf.sum(x, 0))).toBeLessThan(TOL);
      const g = tf.grad((v: Tensor) => tf.sum(tf.mul(w, columnSum(v))))(x);
      expect(maxRelError(g, tf.mul(tf.onesLike(x), w))).toBeLessThan(TOL);
    });
  });
});

describe('mulAdd2', () => {
  it.each([[[7, 5]], [[250, 64]], [[3]]])('equals a * b + c * d for shape %j, with the same gradients', (shape) => {
    tf.tidy(() => {
      const [a, b, c, d] = [41, 42, 43, 44].map((seed) => tf.randomNormal(shape, 0, 1, 'float32', seed));
      const w = tf.randomNormal(shape, 0, 1, 'float32', 45);
      const f = (g: (p: Tensor, q: Tensor, r: Tensor, s: Tensor) => Tensor) => [g(a, b, c, d), ...tf.grads((p: Tensor, q: Tensor, r: Tensor, s: Tensor) => tf.sum(tf.mul(w, g(p, q, r, s))))([a, b, c, d])];
      const got = f(mulAdd2);
      const want = f((p, q, r, s) => tf.add(tf.mul(p, q), tf.mul(r, s)));
      got.forEach((g, i) => expect(maxRelError(g, want[i])).toBeLessThan(TOL));
    });
  });
});

describe('relu and reluMask', () => {
  it('reluMask equals dy * step(x) on a size that is not a multiple of 4', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([7, 5], 0, 1, 'float32', 16);
      const dy = tf.randomNormal([7, 5], 0, 1, 'float32', 17);
      expect(maxRelError(reluMask(dy, x), tf.mul(dy, tf.step(x)))).toBe(0);
    });
  });

  it('relu matches tf.relu with gradient dy * (x > 0); reluMask has zero derivative in x', () => {
    tf.tidy(() => {
      const x = tf.tensor1d([-2, -0.5, 0.5, 3]);
      const dy = tf.tensor1d([1, 2, 3, 4]);
      expect(Array.from(relu(x).dataSync())).toEqual([0, 0, 0.5, 3]);
      expect(Array.from(tf.grad((v: Tensor) => tf.sum(tf.mul(dy, relu(v))))(x).dataSync())).toEqual([0, 0, 3, 4]);
      expect(Array.from(reluMask(dy, x).dataSync())).toEqual([0, 0, 3, 4]);
      const w = tf.tensor1d([5, 6, 7, 8]);
      const [gdy, gx] = tf.grads((d: Tensor, v: Tensor) => tf.sum(tf.mul(w, reluMask(d, v))))([dy, x]);
      expect(Array.from(gdy.dataSync())).toEqual([0, 0, 7, 8]);
      expect(Array.from(gx.dataSync())).toEqual([0, 0, 0, 0]);
    });
  });

  it('leaves no tensor behind, forward and backward', () => {
    const x = tf.randomNormal([250, 40], 0, 1, 'float32', 12);
    const w = tf.randomNormal([40, 40], 0, 1, 'float32', 13);
    const b = tf.zeros([40]);
    const step = () => tf.tidy(() => tf.grads((p: Tensor) => tf.sum(taskMatMul(relu(dense(x, p, b)), x, 25, { transposeB: true, plus: 1 })))([w]));
    tf.dispose(step());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) tf.dispose(step());
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, b]);
  });
});
