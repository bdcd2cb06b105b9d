import { tf } from '../tf';
import { free, runWasm, type WasmBackend } from './wasm';

/** Marks our wrapper (Symbol.for: recognised even if this module is loaded twice). */
const WRAPPER = Symbol.for('chameleon.nn.transposeFreeBatchMatMul');

type Marked = tf.KernelFunc & { [WRAPPER]?: true };

const batchSize = (t: tf.TensorInfo) => t.shape.slice(0, -2).reduce((x, y) => x * y, 1);

/** The same tensor with its last two dimensions swapped, as a new tensor (a copy). */
function swapLast(backend: WasmBackend, t: tf.TensorInfo): tf.TensorInfo {
  const perm = t.shape.map((_, i) => i);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
  return runWasm('Transpose', backend, { x: t }, { perm });
}

/** Below this many multiply-adds the scalar loop costs no more than a copy and a call. */
const MIN_WORK = 4096;
/** XNNPACK packs a fresh B^T (k * n) on every call: worth it only over this many rows of A. */
const MIN_ROWS_FOR_B = 8;

/**
 * Whether transposing first pays: only products XNNPACK takes once untransposed, one matrix
 * on each side (batched products use the same scalar loops either way; measured, no gain
 * from a copy there), and not tiny ones (measured: [1,400].[200,400]^T takes 0.16 ms in the
 * loop but 0.7 ms with a packed copy of B^T).
 */
function worthIt(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  if (batchSize(a) !== 1 || batchSize(b) !== 1) return false;
  const [ra, ca] = a.shape.slice(-2);
  const m = transposeA ? ca : ra;
  const k = transposeA ? ra : ca;
  const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  return m * k * n >= MIN_WORK && (!transposeB || m >= MIN_ROWS_FOR_B);
}

function wrap(original: tf.KernelFunc): Marked {
  const wrapped: Marked = (args) => {
    const { inputs, backend, attrs } = args as unknown as { inputs: { a: tf.TensorInfo; b: tf.TensorInfo }; backend: WasmBackend; attrs: { transposeA?: boolean; transposeB?: boolean } };
    const { a, b } = inputs;
    const { transposeA = false, transposeB = false } = attrs;
    if (!(transposeA || transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32' || !worthIt(a, b, transposeA, transposeB)) return original(args);
    // A fresh tensor, never a view of b: XNNPACK caches packed weights per tensor id, and a
    // temporary's cache entry goes when it is freed.
    const at = transposeA ? swapLast(backend, a) : a;
    const bt = transposeB ? swapLast(backend, b) : b;
    try {
      return original({ ...args, inputs: { a: at, b: bt }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      if (at !== a) free(backend, at);
      if (bt !== b) free(backend, bt);
    }
  };
  wrapped[WRAPPER] = true;
  return wrapped;
}

/** True when the wasm backend's registered BatchMatMul is our wrapper. */
export function transposeFreeMatMulInstalled(): boolean {
  return Boolean((tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc as Marked | undefined)?.[WRAPPER]);
}

/**
 * Makes tf.matMul with a transposed operand fast on the wasm backend, for every caller.
 *
 * tfjs-backend-wasm (4.22) runs BatchMatMul on XNNPACK only for a plain product of two
 * single matrices; with transposeA or transposeB it falls back to a scalar loop that is
 * 6-20x slower at this repo's sizes (measured 2026-11-22, [400,98].[98,64] with either
 * operand transposed: 4.4-4.7 ms, 0.5 ms with this wrapper; [7200,83].[83,64]: 73-82 ms vs
 * 4-7 ms; [200,400].[400,200]: 27-31 ms vs 2.3-3 ms). tfjs's own MatMul gradient
 * (dA = dy.B^T, dB = A^T.dy) is exactly such calls, so every tf.matMul backward pass paid it.
 * (The hot paths here already avoid it by hand: dense, matMulT, taskMatMul. This covers the
 * rest: Mlp.forward, ANIL and CAVIA bodies, MLP embeddings of ProtoNets, the RL^2 GRU.)
 *
 * This replaces the registered wasm BatchMatMul with a wrapper that, for transposed single
 * matrices, first transposes the operand with the backend's Transpose kernel (a copy),
 * calls the original kernel untransposed and frees the copy. Batched products (batch > 1)
 * go straight to the original: they never reach XNNPACK, transposed or not. It is a kernel,
 * not a gradient: gradients, and gradients of gradients (second-order MAML), are tfjs's
 * own, unchanged; results differ from the scalar loop only by float32 summation order.
 *
 * Idempotent (the registered kernel is marked); registers nothing if the wasm backend is
 * not loaded. Called when this module loads and again by initBackend('wasm').
 */
export function installTransposeFreeMatMul(): void {
  const config = tf.getKernel('BatchMatMul', 'wasm');
  if (!config || (config.kernelFunc as Marked)[WRAPPER]) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  // Keep setupFunc/disposeFunc: a re-created wasm backend runs them for registered kernels.
  tf.registerKernel({ ...config, kernelFunc: wrap(config.kernelFunc) });
}

installTransposeFreeMatMul();
