/**
 * The wasm backend's BatchMatMul, wrapped: transposed single matrices go through XNNPACK
 * untransposed, batched products through SIMD loops or XNNPACK instead of tfjs-backend-wasm's
 * scalar loop. What is measured, and how: installTransposeFreeMatMul below, and BENCHMARKS.md
 * ("wasm BatchMatMul": tools/bench/matmul.ts and the maml-generic benchmark).
 */
import { tf } from '../tf';
import { blockProducts, type SimdKernels } from './simd';
import { free, offset, runWasm, simdFor, view, type WasmBackend } from './wasm';

/** Marks our wrapper (Symbol.for: recognised even if this module is loaded twice). */
const WRAPPER = Symbol.for('chameleon.nn.transposeFreeBatchMatMul');

type Marked = tf.KernelFunc & { [WRAPPER]?: true };
type Args = Parameters<tf.KernelFunc>[0];

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
/** Splitting a batched product into 2-D XNNPACK products pays from this many multiply-adds per matrix (measured). */
const MIN_SPLIT_MATRIX_WORK = 4096;
/** Rows per matrix from which a transposed B is copied untransposed for the SIMD loop (as in taskMatMul). */
const TRANSPOSE_B_FROM_ROWS = 16;

/**
 * Whether transposing first pays for a product of two single matrices: not for tiny ones
 * (measured: [1,400].[200,400]^T takes 0.16 ms in the loop but 0.7 ms with a packed copy
 * of B^T).
 */
function worthIt(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  const [ra, ca] = a.shape.slice(-2);
  const m = transposeA ? ca : ra;
  const k = transposeA ? ra : ca;
  const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  return m * k * n >= MIN_WORK && (!transposeB || m >= MIN_ROWS_FOR_B);
}

type BatchedMode = 'auto' | 'loop' | 'xnnpack';
const MODES: readonly BatchedMode[] = ['auto', 'loop', 'xnnpack'];

function modeFromEnv(): BatchedMode {
  const v = typeof process === 'undefined' ? undefined : process.env.CHAMELEON_BATCHED_MATMUL;
  if (v === undefined || v === '') return 'auto';
  if (!(MODES as readonly string[]).includes(v)) throw new Error(`CHAMELEON_BATCHED_MATMUL must be one of ${MODES.join(', ')}, got ${v}`);
  return v as BatchedMode;
}

/**
 * How batched products are computed, for the tests and benchmarks (tools/bench/matmul.ts;
 * end to end via CHAMELEON_BATCHED_MATMUL): 'auto' (the default) as described at
 * installTransposeFreeMatMul; 'loop' the original kernel's scalar loop, as before this
 * change; 'xnnpack' every splittable batched product as 2-D XNNPACK products, whatever its size.
 */
export const batchedMatMulSettings: { mode: BatchedMode } = { mode: modeFromEnv() };

/**
 * Batch sizes [batchA, batchB, batch] when a batched product can be split into 2-D ones with
 * the original kernel's own semantics: both batches equal, or one of them 1 (broadcast).
 * Other broadcasts ([2,1,..] with [3,..]) are left to the original, whatever it does.
 */
function splittable(a: tf.TensorInfo, b: tf.TensorInfo): [number, number, number] | undefined {
  const [ba, bb] = [batchSize(a), batchSize(b)];
  const batch = Math.max(ba, bb);
  if (batch === 1 || (ba !== bb && ba !== 1 && bb !== 1)) return undefined;
  const out = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return out.reduce((x, y) => x * y, 1) === batch ? [ba, bb, batch] : undefined;
}

/**
 * The batched product as `batch` plain 2-D products on XNNPACK: transposed operands are
 * transposed first (one Transpose for the whole batch), each matrix is copied into a fresh
 * tensor, the original kernel multiplies it untransposed, and its result is copied into the
 * output. A batch-1 operand is passed whole every time (a shared B is packed once).
 */
function splitBatches(original: tf.KernelFunc, args: Args, backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean, [ba, bb, batch]: [number, number, number]): tf.TensorInfo {
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const [m, k, n] = mkn(a, b, ta, tb);
  const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
  const a3 = ta ? runWasm('Transpose', backend, { x: view(a, [ba, ra, ca]) }, { perm: [0, 2, 1] }) : view(a, [ba, m, k]);
  const b3 = tb ? runWasm('Transpose', backend, { x: view(b, [bb, rb, cb]) }, { perm: [0, 2, 1] }) : view(b, [bb, k, n]);
  const out = backend.makeOutput(outShape, 'float32');
  const attrs = { ...args.attrs, transposeA: false, transposeB: false };
  // One scratch A (XNNPACK caches nothing for A); a fresh B per matrix (its packed weights
  // are cached under the tensor's id, and dropped when the tensor is freed).
  const ai = ba > 1 ? backend.makeOutput([m, k], 'float32') : view(a3, [m, k]);
  try {
    for (let i = 0; i < batch; i++) {
      const bi = bb > 1 ? backend.makeOutput([k, n], 'float32') : view(b3, [k, n]);
      let heap = backend.wasm.HEAPF32; // after the allocation: a growing heap replaces the array
      if (ba > 1) heap.copyWithin(offset(backend, ai) >>> 2, (offset(backend, a3) >>> 2) + i * m * k, (offset(backend, a3) >>> 2) + (i + 1) * m * k);
      if (bb > 1) heap.copyWithin(offset(backend, bi) >>> 2, (offset(backend, b3) >>> 2) + i * k * n, (offset(backend, b3) >>> 2) + (i + 1) * k * n);
      const ci = original({ ...args, inputs: { a: ai, b: bi }, attrs } as never) as tf.TensorInfo;
      heap = backend.wasm.HEAPF32;
      const c0 = offset(backend, ci) >>> 2;
      heap.copyWithin((offset(backend, out) >>> 2) + i * m * n, c0, c0 + m * n);
      free(backend, ci);
      if (bb > 1) free(backend, bi);
    }
  } finally {
    if (ba > 1) free(backend, ai);
    if (ta) free(backend, a3);
    if (tb) free(backend, b3);
  }
  return out;
}

/** [m, k, n] of op(a) . op(b). */
function mkn(a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean): [number, number, number] {
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  return [ta ? ca : ra, ta ? ra : ca, tb ? rb : cb];
}

/**
 * Equal batches on the SIMD block loops of taskMatMul (one call for the whole batch, no
 * copies). They take one transposed operand: with both, or with a B^T wide enough for the
 * register-tiled loop, B is first transposed (a copy, freed).
 */
function simdBatches(simd: SimdKernels, backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean, batch: number, outShape: number[]): tf.TensorInfo {
  const [m, k, n] = mkn(a, b, ta, tb);
  const copyB = tb && (ta || (n % 4 === 0 && m >= TRANSPOSE_B_FROM_ROWS));
  const b3 = copyB ? runWasm('Transpose', backend, { x: view(b, [batch, n, k]) }, { perm: [0, 2, 1] }) : b;
  const out = backend.makeOutput(outShape, 'float32');
  blockProducts(simd, offset(backend, a), offset(backend, b3), offset(backend, out), batch, m, k, n, ta, tb && !copyB);
  if (copyB) free(backend, b3);
  return out;
}

/** The product of two single matrices, transposing an operand first when that pays (see worthIt). */
function single(original: tf.KernelFunc, args: Args, backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean): tf.TensorInfo {
  if (!(ta || tb) || !worthIt(a, b, ta, tb)) return original({ ...args, inputs: { a, b }, attrs: { ...args.attrs, transposeA: ta, transposeB: tb } } as never) as tf.TensorInfo;
  // A fresh tensor, never a view of b: XNNPACK caches packed weights per tensor id, and a
  // temporary's cache entry goes when it is freed.
  const at = ta ? swapLast(backend, a) : a;
  const bt = tb ? swapLast(backend, b) : b;
  try {
    return original({ ...args, inputs: { a: at, b: bt }, attrs: { ...args.attrs, transposeA: false, transposeB: false } } as never) as tf.TensorInfo;
  } finally {
    if (at !== a) free(backend, at);
    if (bt !== b) free(backend, bt);
  }
}

/** A batched float32 product computed another way, or undefined to leave it to the original kernel. */
function batched(original: tf.KernelFunc, args: Args, backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean): tf.TensorInfo | undefined {
  const mode = batchedMatMulSettings.mode;
  const batches = mode === 'loop' ? undefined : splittable(a, b);
  // Inner sizes that differ: the original kernel throws tfjs's error.
  if (!batches || (tb ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2]) !== mkn(a, b, ta, tb)[1]) return undefined;
  if (mode === 'xnnpack') return splitBatches(original, args, backend, a, b, ta, tb, batches);
  const [ba, bb, batch] = batches;
  const [m, k, n] = mkn(a, b, ta, tb);
  const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
  const simd = simdFor(backend);
  if (ba === bb && simd) return simdBatches(simd, backend, a, b, ta, tb, batch, outShape);
  if (bb === 1 && !ta) {
    // Every A against one B: the rows of all A matrices stacked, one product ([batch * m, k] . op(B)).
    const r = single(original, args, backend, view(a, [batch * m, k]), view(b, tb ? [n, k] : [k, n]), false, tb);
    return { ...r, shape: outShape };
  }
  return m * k * n >= MIN_SPLIT_MATRIX_WORK ? splitBatches(original, args, backend, a, b, ta, tb, batches) : undefined;
}

function wrap(original: tf.KernelFunc): Marked {
  const wrapped: Marked = (args) => {
    const { inputs, backend, attrs } = args as unknown as { inputs: { a: tf.TensorInfo; b: tf.TensorInfo }; backend: WasmBackend; attrs: { transposeA?: boolean; transposeB?: boolean } };
    const { a, b } = inputs;
    const { transposeA = false, transposeB = false } = attrs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    if (batchSize(a) === 1 && batchSize(b) === 1) return single(original, args, backend, a, b, transposeA, transposeB);
    return batched(original, args, backend, a, b, transposeA, transposeB) ?? original(args);
  };
  wrapped[WRAPPER] = true;
  return wrapped;
}
/** True when the wasm backend's registered BatchMatMul is our wrapper. */
export function transposeFreeMatMulInstalled(): boolean {
  return Boolean((tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc as Marked | undefined)?.[WRAPPER]);
}

/**
 * Makes tf.matMul with a transposed operand, or with a batch of matrices, fast on the wasm
 * backend, for every caller.
 *
 * tfjs-backend-wasm (4.22) runs BatchMatMul on XNNPACK only for a plain product of two
 * single matrices; with transposeA or transposeB, or with a batch dimension over 1, it falls
 * back to a scalar loop (about 2 ns per multiply-add here).
 *
 * Single matrices (measured 2026-11-22): a transposed operand is first transposed with the
 * backend's Transpose kernel (a copy, freed afterwards) and the original kernel called
 * untransposed: [400,98].[98,64] with either operand transposed 4.4-4.7 ms -> 0.5 ms,
 * [7200,83].[83,64] 73-82 -> 4-7 ms, [200,400].[400,200] 27-31 -> 2.3-3 ms. tfjs's own
 * MatMul gradient (dA = dy.B^T, dB = A^T.dy) is made of such calls. Not below MIN_WORK
 * multiply-adds, nor for B^T with fewer than MIN_ROWS_FOR_B rows of A.
 *
 * Batched float32 products (measured 2026-11-22 10:07 UTC with tools/bench/matmul.ts, load
 * 3.4-3.6; ms per product, loop -> this wrapper; BENCHMARKS.md has the table):
 * - equal batches go to taskMatMul's SIMD block loops, one call for the whole batch, no
 *   copies (with both operands transposed, or a B^T with n % 4 == 0 and m >= 16, B is
 *   transposed first): maml-generic's 25 x [10,40].[40,40] 0.96 -> 0.11 (B^T 0.87 -> 0.22,
 *   A^T 1.2 -> 0.07), 10 x [50,64].[64,64] 4.1 -> 0.24, 4 x [400,98].[98,64] 14 -> 0.96;
 * - a batch of A against one B (untransposed A): the A matrices stacked into one 2-D
 *   XNNPACK product, 25 x [10,40].[40,40] 0.49 -> 0.08;
 * - other broadcasts of a batch-1 operand: one XNNPACK product per matrix (splitBatches),
 *   from MIN_SPLIT_MATRIX_WORK multiply-adds per matrix (0.69 -> 0.51 at [10,40].[40,40]);
 *   smaller ones, and broadcasts other than "one side has batch 1", keep the loop.
 * Splitting every batched product into 2-D XNNPACK products (the 'xnnpack' mode of
 * batchedMatMulSettings) was measured too and is not used for equal batches: each XNNPACK
 * call costs about 4-5 us (operator creation, packing B), so it is only 1.2-1.8x faster than
 * the loop at maml-generic's sizes and slower than it below ~4,000 multiply-adds per matrix,
 * while the SIMD loops are 5-15x faster. End to end, maml-generic in-process went from 30-32
 * to 58-64 it/s (two sets of 3 interleaved runs; shared machine, load 2.7-4.8; BENCHMARKS.md).
 *
 * It is a kernel, not a gradient: gradients, and gradients of gradients (second-order MAML),
 * are tfjs's own, unchanged; results differ from the scalar loop only by float32 summation
 * order. XNNPACK caches packed weights per tensor id: B is only ever passed as the caller's
 * own tensor or as a fresh copy that is freed (dropping its cache entry), never a reused
 * scratch tensor.
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
