import { maxRelError } from '../compare';
import { initBackend } from '../backend';
import { tf, type Tensor } from '../tf';
import { batchedMatMulSettings, installTransposeFreeMatMul, transposeFreeMatMulInstalled } from './index';

beforeAll(async () => {
  await initBackend('wasm');
});

// float32 sums of up to a few hundred products in another order: ~1e-6 relative at most.
const TOL = 1e-5;

/** op(x) with its last two dimensions swapped when t. */
const op = (x: Tensor, t: boolean) => (t ? tf.transpose(x, [...x.shape.keys()].map((i, _, all) => (i < all.length - 2 ? i : 2 * all.length - 3 - i))) : x);

/** The product on the host, summed in float64 (batch dims broadcast by index modulo, enough for these cases). */
function hostMatMul(a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
  const A = op(a, ta);
  const B = op(b, tb);
  const [m, k] = A.shape.slice(-2);
  const n = B.shape[B.shape.length - 1];
  const shape = tf.matMul(a, b, ta, tb).shape;
  const batch = shape.reduce((p, q) => p * q, 1) / (m * n);
  const [x, y] = [A.dataSync(), B.dataSync()];
  const [bA, bB] = [A.size / (m * k), B.size / (k * n)];
  const out = new Float32Array(batch * m * n);
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += x[(t % bA) * m * k + i * k + p] * y[(t % bB) * k * n + p * n + j];
        out[t * m * n + i * n + j] = s;
      }
  return tf.tensor(out, shape);
}

const flags: Array<[boolean, boolean]> = [[false, false], [false, true], [true, false], [true, true]];

// [a shape, b shape] untransposed: the repo's sizes (MLP layers, a Gram), rank-3 single
// matrices, meta-batched [T, N, K] products, broadcasting, and tiny ones left to the loop.
const cases: Array<[number[], number[]]> = [
  [[400, 98], [98, 64]], [[64, 64], [64, 64]], [[250, 40], [40, 40]], [[30, 17], [17, 9]],
  [[1, 30, 40], [1, 40, 20]], [[1, 30, 40], [40, 20]], [[5, 10, 7], [5, 7, 6]], [[3, 12, 40], [40, 8]],
  [[1, 40], [40, 40]], [[5, 3], [3, 4]], [[250, 1], [1, 40]], [[250, 40], [40, 1]],
];

const swap = (s: number[]) => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];

describe('transpose-free BatchMatMul on wasm', () => {
  it('is the registered wasm kernel after initBackend, once however often it is installed', async () => {
    expect(transposeFreeMatMulInstalled()).toBe(true);
    const kernel = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
    installTransposeFreeMatMul();
    await initBackend('wasm');
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(kernel);
    expect(tf.getKernel('BatchMatMul', 'wasm')!.setupFunc).toBeDefined();
    expect(tf.getBackend()).toBe('wasm');
  });

  describe.each(flags)('transposeA=%s, transposeB=%s', (ta, tb) => {
    it.each(cases)('%j . %j equals the host product and tf.matMul on explicit transposes', (as, bs) => {
      tf.tidy(() => {
        const a = tf.randomNormal(ta ? swap(as) : as, 0, 1, 'float32', 1);
        const b = tf.randomNormal(tb ? swap(bs) : bs, 0, 1, 'float32', 2);
        const got = tf.matMul(a, b, ta, tb);
        expect(maxRelError(got, hostMatMul(a, b, ta, tb))).toBeLessThan(TOL);
        expect(maxRelError(got, tf.matMul(op(a, ta), op(b, tb)))).toBeLessThan(TOL);
      });
    });
  });

  it('gives bit-identical results to transposing first where it transposes ([400, 98] . [98, 64])', () => {
    tf.tidy(() => {
      const a = tf.randomNormal([98, 400], 0, 1, 'float32', 3);
      const b = tf.randomNormal([64, 98], 0, 1, 'float32', 4);
      const want = tf.matMul(tf.transpose(a), tf.transpose(b)).dataSync();
      const got = tf.matMul(a, b, true, true).dataSync();
      expect(got.filter((v, i) => v !== want[i]).length).toBe(0);
    });
  });

  // f(a, b) = sum(w * tanh(op(a) . op(b))): non-linear, so second derivatives are not zero.
  describe.each(flags)('gradients, transposeA=%s, transposeB=%s', (ta, tb) => {
    const [m, k, n] = [24, 40, 16];
    const f = (explicit: boolean) => (a: Tensor, b: Tensor, w: Tensor) =>
      tf.sum(tf.mul(w, tf.tanh(explicit ? tf.matMul(op(a, ta), op(b, tb)) : tf.matMul(a, b, ta, tb))));

    it('first and second order equal those through explicit transposes', () => {
      tf.tidy(() => {
        const a = tf.mul(0.2, tf.randomNormal(ta ? [k, m] : [m, k], 0, 1, 'float32', 5));
        const b = tf.mul(0.2, tf.randomNormal(tb ? [n, k] : [k, n], 0, 1, 'float32', 6));
        const w = tf.randomNormal([m, n], 0, 1, 'float32', 7);
        const both = (explicit: boolean) => {
          const g = tf.grads((x: Tensor, y: Tensor) => f(explicit)(x, y, w))([a, b]);
          // MAML-style second order: differentiate a function of the inner gradient.
          const gg = tf.grads((x: Tensor, y: Tensor) => {
            const [gx, gy] = tf.grads((p: Tensor, q: Tensor) => f(explicit)(p, q, w))([x, y]);
            return f(explicit)(tf.sub(x, tf.mul(0.1, gx)), tf.sub(y, tf.mul(0.1, gy)), w);
          })([a, b]);
          return [...g, ...gg];
        };
        const got = both(false);
        const want = both(true);
        got.forEach((g, i) => expect(maxRelError(g, want[i])).toBeLessThan(TOL));
        expect(tf.max(tf.abs(tf.sub(got[2], got[0]))).dataSync()[0]).toBeGreaterThan(1e-4); // second order differs from first
      });
    });
  });

  it('leaves no tensor or backend data behind', () => {
    const a = tf.randomNormal([98, 400], 0, 1, 'float32', 8);
    const b = tf.randomNormal([64, 98], 0, 1, 'float32', 9);
    const step = () => tf.tidy(() => tf.grads((x: Tensor, y: Tensor) => tf.sum(tf.square(tf.matMul(x, y, true, true))))([a, b]));
    tf.dispose(step());
    const tensors = tf.memory().numTensors;
    const data = tf.backend().numDataIds();
    for (let i = 0; i < 10; i++) tf.dispose(step());
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(data);
    tf.dispose([a, b]);
  });

  describe('batched products', () => {
    const modes = ['auto', 'xnnpack', 'loop'] as const;
    afterEach(() => {
      batchedMatMulSettings.mode = 'auto';
    });

    // [a batch dims, b batch dims, m, k, n]: B = 1 and B > 1, odd sizes, a batch-1 operand
    // broadcast (also as a 2-D one), rank 4, and the maml-generic shapes (25 tasks x 10 points).
    const batchedCases: Array<[number[], number[], number, number, number]> = [
      [[1], [1], 9, 13, 7], [[3], [3], 9, 13, 7], [[7], [7], 1, 5, 3], [[4], [4], 17, 1, 11], [[5], [5], 6, 33, 1],
      [[3], [1], 9, 13, 7], [[3], [], 9, 13, 7], [[1], [3], 9, 13, 7], [[], [6], 5, 31, 21], [[2, 3], [2, 3], 5, 7, 9], [[2, 3], [3], 5, 7, 9],
      [[25], [25], 10, 40, 40], [[25], [25], 40, 10, 40], [[25], [25], 10, 1, 40], [[25], [25], 40, 10, 1], [[6], [6], 40, 40, 40], [[25], [], 10, 40, 40],
    ];

    describe.each(modes)('mode %s', (mode) => {
      describe.each(flags)('transposeA=%s, transposeB=%s', (ta, tb) => {
        it.each(batchedCases)('%j x %j, m %d k %d n %d, equals the host product in float64', (da, db, m, k, n) => {
          batchedMatMulSettings.mode = mode;
          tf.tidy(() => {
            const a = tf.randomNormal([...da, ...(ta ? [k, m] : [m, k])], 0, 1, 'float32', 11);
            const b = tf.randomNormal([...db, ...(tb ? [n, k] : [k, n])], 0, 1, 'float32', 12);
            const got = tf.matMul(a, b, ta, tb);
            const want = hostMatMul(a, b, ta, tb);
            expect(got.shape).toEqual([...tf.broadcast_util.assertAndGetBroadcastShape(da, db), m, n]);
            expect(maxRelError(got, want)).toBeLessThan(TOL);
            // the same value twice from fresh tensors (no stale packed weights)
            expect(maxRelError(tf.matMul(tf.mul(a, 2), b, ta, tb), tf.mul(want, 2))).toBeLessThan(TOL);
          });
        });
      });
    });

    // Gradients through a batched product, first and second order (MAML-style), each route
    // against the same computation on tfjs's cpu backend. (Not with a broadcast batch: tfjs
    // 4.22's MatMul gradient does not sum over it, on any backend.)
    const gradCases: Array<[number[], number[], number, number, number]> = [[[1], [1], 5, 7, 6], [[3], [3], 5, 7, 6], [[4], [4], 9, 1, 5], [[2, 3], [2, 3], 6, 8, 5], [[25], [25], 10, 40, 12]];
    describe.each(flags)('gradients, transposeA=%s, transposeB=%s', (ta, tb) => {
      it.each(gradCases)('%j x %j, m %d k %d n %d: first and second order equal the cpu backend', async (da, db, m, k, n) => {
        const [sa, sb] = [[...da, ...(ta ? [k, m] : [m, k])], [...db, ...(tb ? [n, k] : [k, n])]];
        const outShape = [...da, m, n];
        const grads = (): Float32Array[] =>
          tf.tidy(() => {
            const a = tf.mul(0.2, tf.randomNormal(sa, 0, 1, 'float32', 13));
            const b = tf.mul(0.2, tf.randomNormal(sb, 0, 1, 'float32', 14));
            const w = tf.randomNormal(outShape, 0, 1, 'float32', 15);
            const f = (x: Tensor, y: Tensor) => tf.sum(tf.mul(w, tf.tanh(tf.matMul(x, y, ta, tb))));
            const g = tf.grads(f)([a, b]);
            const gg = tf.grads((x: Tensor, y: Tensor) => {
              const [gx, gy] = tf.grads(f)([x, y]);
              return f(tf.sub(x, tf.mul(0.1, gx)), tf.sub(y, tf.mul(0.1, gy)));
            })([a, b]);
            return [...g, ...gg].map((t) => t.dataSync() as Float32Array);
          });
        const onCpu = async () => {
          await tf.setBackend('cpu');
          try {
            return grads();
          } finally {
            await tf.setBackend('wasm');
          }
        };
        const want = await onCpu();
        for (const mode of modes) {
          batchedMatMulSettings.mode = mode;
          const got = grads();
          got.forEach((g, i) => expect(tf.tidy(() => maxRelError(tf.tensor(g), tf.tensor(want[i])))).toBeLessThan(TOL));
        }
        const diff = want[2].reduce((mx, v, i) => Math.max(mx, Math.abs(v - want[0][i])), 0);
        expect(diff).toBeGreaterThan(1e-4); // second order differs from first
      });
    });

    it.each(modes)('throws on inner sizes that differ, as tfjs does (mode %s)', (mode) => {
      batchedMatMulSettings.mode = mode;
      tf.tidy(() => {
        expect(() => tf.matMul(tf.zeros([3, 4, 5]), tf.zeros([3, 6, 2]))).toThrow(/inner shapes/);
        expect(() => tf.matMul(tf.zeros([3, 4, 5]), tf.zeros([3, 2, 6]), false, true)).toThrow(/inner shapes/);
        expect(() => tf.matMul(tf.zeros([3, 4, 5]), tf.zeros([6, 2]))).toThrow(/inner shapes/);
      });
    });

    it.each(modes)('leaves no tensor or backend data behind (mode %s)', (mode) => {
      batchedMatMulSettings.mode = mode;
      // every route: the SIMD loops, one stacked product, the per-matrix split (broadcast
      // batches forward only: see above)
      const shapes: Array<[number[], number[], boolean, boolean]> = [[[25, 40, 10], [25, 40, 40], true, true], [[6, 40, 40], [6, 40, 40], false, true], [[6, 40, 40], [6, 40, 40], true, false]];
      const inputs = shapes.map(([sa, sb]) => [tf.randomNormal(sa), tf.randomNormal(sb)]);
      const [x1, y1, x2, y2] = [tf.randomNormal([25, 10, 40]), tf.randomNormal([40, 40]), tf.randomNormal([40, 10]), tf.randomNormal([6, 40, 40])];
      const step = () =>
        tf.tidy(() => [
          ...inputs.map(([a, b], i) => tf.grads((x: Tensor, y: Tensor) => tf.sum(tf.square(tf.matMul(x, y, shapes[i][2], shapes[i][3]))))([a, b])).flat(),
          tf.matMul(x1, y1, false, true),
          tf.matMul(x2, y2, true, false),
        ]);
      tf.dispose(step());
      const tensors = tf.memory().numTensors;
      const data = tf.backend().numDataIds();
      for (let i = 0; i < 5; i++) tf.dispose(step());
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.backend().numDataIds()).toBe(data);
      tf.dispose([...inputs.flat(), x1, y1, x2, y2]);
    });
  });

  it('does not touch other backends', () => {
    expect(transposeFreeMatMulInstalled()).toBe(true);
    const cpu = tf.getKernel('BatchMatMul', 'cpu');
    expect(cpu && (cpu.kernelFunc as unknown as Record<symbol, unknown>)[Symbol.for('chameleon.nn.transposeFreeBatchMatMul')]).toBeFalsy();
  });
});
