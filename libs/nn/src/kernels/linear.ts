import { tf, type Tensor } from '../tf';
import { blockProducts } from './simd';
import { free, offset, one, registerGradientOnce, registerWasmKernel, run, runWasm, simdFor, view, wasmKernelsActive, type WasmBackend } from './wasm';

const DENSE = 'ChameleonDense';
const MATMUL = 'ChameleonMatMul';
const COLUMN_SUM = 'ChameleonColumnSum';

/**
 * The wasm backend's MatMul is fast (XNNPACK) only for plain, unbatched products; with a
 * transposed operand it falls back to a scalar loop about 10x slower, and tfjs's own
 * MatMul gradient uses exactly those transposed forms. These kernels transpose explicitly
 * (a cheap copy) and then take the fast path, forward and backward. Products with a
 * dimension of at most THIN (a 1-unit input or output layer) go to the SIMD loops instead:
 * there XNNPACK's per-call set-up costs more than the arithmetic.
 */
const THIN = 4;

const transposed = (backend: WasmBackend, t: tf.TensorInfo) => runWasm('Transpose', backend, { x: t }, { perm: [1, 0] });

/** C = op(A) op(B) (+ bias) on the SIMD loops, T = 1; not for both operands transposed. */
function simdMatMul(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean, bias?: tf.TensorInfo): tf.TensorInfo {
  const [m, k] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const n = tb ? b.shape[0] : b.shape[1];
  const out = backend.makeOutput([m, n], 'float32');
  blockProducts(simdFor(backend)!, offset(backend, a), offset(backend, b), offset(backend, out), 1, m, k, n, ta, tb, { bias: bias ? offset(backend, bias) : 0 });
  return out;
}

const thin = (...dims: number[]) => Math.min(...dims) <= THIN;

registerWasmKernel(DENSE, ({ inputs: { x, w, b }, backend }) => {
  if (thin(x.shape[1], w.shape[1])) return simdMatMul(backend, x, w, false, false, b);
  // XNNPACK's fully connected operator adds the bias itself: one call for x . w + b.
  const y = runWasm('_FusedMatMul', backend, { a: view(x, [1, ...x.shape]), b: view(w, [1, ...w.shape]), bias: b }, {
    transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0,
  });
  return view(y, [x.shape[0], w.shape[1]]);
});

registerWasmKernel(MATMUL, ({ inputs: { a, b }, backend, attrs }) => {
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  if (!(transposeA && transposeB) && thin(...a.shape, ...b.shape)) return simdMatMul(backend, a, b, transposeA, transposeB);
  // Never pass a reshaped view as `b`: XNNPACK caches its packed weights per tensor id.
  const at = transposeA ? transposed(backend, a) : a;
  const bt = transposeB ? transposed(backend, b) : b;
  const y = runWasm('BatchMatMul', backend, { a: at, b: bt }, { transposeA: false, transposeB: false });
  if (at !== a) free(backend, at);
  if (bt !== b) free(backend, bt);
  return y;
});

// A row of ones times x, with the ones as one number read at stride 0 (tfjs's Sum over
// axis 0 transposes first, and costs about 10x more here).
registerWasmKernel(COLUMN_SUM, ({ inputs: { x }, backend }) => {
  const [rows, cols] = x.shape;
  const out = backend.makeOutput([cols], 'float32');
  simdFor(backend)!.nn(one(backend), offset(backend, x), offset(backend, out), 1, 1, rows, cols, 0, 0, 0, 0, 0, 0, 1);
  return out;
});

registerGradientOnce({
  kernelName: DENSE,
  inputsToSave: ['x', 'w'],
  gradFunc: (dy, [x, w]) => ({
    x: () => matMulT(dy as Tensor, w, false, true),
    w: () => matMulT(x, dy as Tensor, true, false),
    b: () => columnSum(dy as Tensor),
  }),
});

registerGradientOnce({
  kernelName: MATMUL,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, [a, b], attrs) => {
    const { transposeA: ta, transposeB: tb } = attrs as { transposeA: boolean; transposeB: boolean };
    const d = dy as Tensor;
    if (!ta && !tb) return { a: () => matMulT(d, b, false, true), b: () => matMulT(a, d, true, false) };
    if (!ta && tb) return { a: () => matMulT(d, b, false, false), b: () => matMulT(d, a, true, false) };
    if (ta && !tb) return { a: () => matMulT(b, d, false, true), b: () => matMulT(a, d, false, false) };
    return { a: () => matMulT(b, d, true, true), b: () => matMulT(d, a, true, true) };
  },
});

registerGradientOnce({
  kernelName: COLUMN_SUM,
  inputsToSave: ['x'],
  gradFunc: (dy, [x]) => ({ x: () => tf.mul(tf.onesLike(x), dy as Tensor) }),
});

/**
 * x [N, in] . w [in, out] + b [out]. On wasm one kernel (XNNPACK, or SIMD for a thin
 * layer), with a gradient that stays on the fast paths; elsewhere tf.matMul + tf.add.
 */
export function dense(x: Tensor, w: Tensor, b: Tensor): Tensor {
  return wasmKernelsActive() ? run(DENSE, { x, w, b }) : tf.add(tf.matMul(x, w), b);
}

/** tf.matMul for 2-D operands whose transposes (and gradient) stay on wasm's fast paths. */
export function matMulT(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  return wasmKernelsActive() ? run(MATMUL, { a, b }, { transposeA, transposeB }) : tf.matMul(a, b, transposeA, transposeB);
}

/** Sum over the rows of a 2-D tensor: [N, C] -> [C] (a bias gradient). */
export function columnSum(x: Tensor): Tensor {
  return wasmKernelsActive() && x.rank === 2 ? run(COLUMN_SUM, { x }) : tf.sum(x, 0);
}
