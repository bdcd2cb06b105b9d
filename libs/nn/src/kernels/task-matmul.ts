import { tf, type Tensor } from '../tf';
import { blockProducts } from './simd';
import { free, offset, registerGradientOnce, registerWasmKernel, run, runWasm, simdFor, view, wasmKernelsActive } from './wasm';

const KERNEL = 'ChameleonTaskMatMul';

export interface TaskMatMulOptions {
  /** Use A_t transposed. Default false. */
  readonly transposeA?: boolean;
  /** Use B_t transposed (not together with transposeA). Default false. */
  readonly transposeB?: boolean;
  /** Multiplies the product. Default 1. */
  readonly scale?: number;
  /** A constant added to every element of the result. Default 0. */
  readonly plus?: number;
  /** A tensor shaped like the result, added to it (so `base - G D` is one op). */
  readonly base?: Tensor;
  /**
   * A row added to every row of the result: [n] for all tasks, or [T, n] one per task (a
   * layer's bias, per task when every task has its own weights). Not scaled.
   */
  readonly bias?: Tensor;
}

interface Attrs {
  tasks: number;
  transposeA: boolean;
  transposeB: boolean;
  scale: number;
  plus: number;
  /** The bias (if any) has a row per task. */
  biasPerTask: boolean;
}

/** Rows and columns of one task's block: [T, r, c] or task-major rows [T * r, c]. */
function block(t: tf.TensorInfo, tasks: number): [number, number] {
  const s = t.shape;
  if (s.length === 3 && s[0] === tasks) return [s[1], s[2]];
  if (s.length === 2 && s[0] % tasks === 0) return [s[0] / tasks, s[1]];
  throw new Error(`taskMatMul: shape [${s.join(', ')}] does not split into ${tasks} task blocks`);
}

/** The bias as a row per task ([T, n]) or one row ([n]); anything else is an error. */
function biasRows(bias: tf.TensorInfo | undefined, tasks: number, n: number): 'none' | 'shared' | 'per-task' {
  if (!bias) return 'none';
  const s = bias.shape.join();
  if (s === `${n}`) return 'shared';
  if (s === `${tasks},${n}`) return 'per-task';
  throw new Error(`taskMatMul: bias must have shape [${n}] or [${tasks}, ${n}], got [${bias.shape.join(', ')}]`);
}

function dims(a: tf.TensorInfo, b: tf.TensorInfo, base: tf.TensorInfo | undefined, tasks: number, ta: boolean, tb: boolean) {
  if (ta && tb) throw new Error('taskMatMul: transposeA and transposeB together are not supported');
  if (a.shape.length !== b.shape.length) throw new Error('taskMatMul: a and b must have the same rank');
  const [ar, ac] = block(a, tasks);
  const [br, bc] = block(b, tasks);
  const [m, k, n] = [ta ? ac : ar, ta ? ar : ac, tb ? br : bc];
  if ((tb ? bc : br) !== k) throw new Error(`taskMatMul: inner sizes ${k} and ${tb ? bc : br} differ`);
  const shape = a.shape.length === 3 ? [tasks, m, n] : [tasks * m, n];
  if (base && base.shape.join() !== shape.join()) throw new Error(`taskMatMul: base must have shape [${shape.join(', ')}]`);
  return { m, k, n, shape };
}

/**
 * Rows per task from which a transposed B is worth an explicit per-task transpose (a copy
 * of B) so that the product takes the register-tiled loop: below it, the dot-product loop.
 */
const TRANSPOSE_B_FROM_ROWS = 16;

registerWasmKernel(KERNEL, ({ inputs: { a, b, base, bias }, backend, attrs }) => {
  const { tasks, transposeA, transposeB, scale, plus } = attrs as unknown as Attrs;
  const { m, k, n, shape } = dims(a, b, base, tasks, transposeA, transposeB);
  const rows = biasRows(bias, tasks, n);
  if (rows === 'per-task' && n % 4 !== 0) throw new Error('taskMatMul: a per-task bias needs a width that is a multiple of 4 on wasm');
  const out = backend.makeOutput(shape, 'float32');
  const epilogue = { scale, plus, base: base ? offset(backend, base) : 0, bias: bias ? offset(backend, bias) : 0, biasTask: rows === 'per-task' ? n * 4 : 0 };
  const simd = simdFor(backend)!;
  if (transposeB && n % 4 === 0 && m >= TRANSPOSE_B_FROM_ROWS) {
    const bt = runWasm('Transpose', backend, { x: view(b, [tasks, n, k]) }, { perm: [0, 2, 1] });
    blockProducts(simd, offset(backend, a), offset(backend, bt), offset(backend, out), tasks, m, k, n, transposeA, false, epilogue);
    free(backend, bt);
  } else {
    blockProducts(simd, offset(backend, a), offset(backend, b), offset(backend, out), tasks, m, k, n, transposeA, transposeB, epilogue);
  }
  return out;
});

registerGradientOnce({
  kernelName: KERNEL,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const { tasks, transposeA, transposeB, scale } = attrs as unknown as Attrs;
    const d = dy as Tensor;
    const mm = (x: Tensor, y: Tensor, tx: boolean, ty: boolean) => taskMatMul(x, y, tasks, { transposeA: tx, transposeB: ty, scale });
    const base = { base: () => d, bias: () => biasGradient(d, (attrs as unknown as Attrs).biasPerTask, tasks) };
    if (transposeA) return { ...base, a: () => mm(b, d, false, true), b: () => mm(a, d, false, false) };
    if (transposeB) return { ...base, a: () => mm(d, b, false, false), b: () => mm(d, a, true, false) };
    return { ...base, a: () => mm(d, b, false, true), b: () => mm(a, d, true, false) };
  },
});

/** Column sums of dy per task ([T, n]) or over all rows ([n]), shaped like the bias. */
function biasGradient(dy: Tensor, perTask: boolean, tasks: number): Tensor {
  const n = dy.shape[dy.rank - 1];
  const sums = tf.sum(tf.reshape(dy, [tasks, -1, n]), 1);
  return perTask ? sums : tf.sum(sums, 0);
}

/** tf.matMul over task blocks: the reference implementation, and the one off wasm. */
function portable(a: Tensor, b: Tensor, tasks: number, o: TaskMatMulOptions): Tensor {
  const { n, shape } = dims(a, b, o.base, tasks, o.transposeA ?? false, o.transposeB ?? false);
  biasRows(o.bias, tasks, n);
  const as3 = (t: Tensor) => tf.reshape(t, [tasks, -1, t.shape[t.shape.length - 1]]);
  let y = tf.reshape(tf.matMul(as3(a), as3(b), o.transposeA, o.transposeB), shape);
  if (o.scale !== undefined && o.scale !== 1) y = tf.mul(y, o.scale);
  if (o.plus) y = tf.add(y, o.plus);
  if (o.bias) y = tf.reshape(tf.add(tf.reshape(y, [tasks, -1, n]), tf.reshape(o.bias, [-1, 1, n])), shape);
  return o.base ? tf.add(o.base, y) : y;
}

/**
 * Per-task matrix products: for each of `tasks` blocks, base + scale * op(A_t) . op(B_t) +
 * plus + bias_t. Blocks are either a leading task axis [T, r, c] or task-major rows [T * r, c] (so a
 * layer's activations over all tasks need no reshape); the result has the same layout. On
 * the wasm backend this is one SIMD kernel with its own gradient (made of the same kernel);
 * elsewhere it is tf.matMul on [T, r, c].
 *
 * @example
 *   // Per-task Gram matrices of query against support activations, plus one (the bias):
 *   const g = taskMatMul(hQuery, aSupport, T, { transposeB: true, plus: 1 }); // [T*Q, K]
 *   // ...and a layer through every task's adapted weights: h W + b - g D
 *   const z = taskMatMul(g, d, T, { base: dense(hQuery, w, b), scale: -1 });
 */
export function taskMatMul(a: Tensor, b: Tensor, tasks: number, options: TaskMatMulOptions = {}): Tensor {
  if (!wasmKernelsActive()) return portable(a, b, tasks, options);
  const attrs = {
    tasks, transposeA: options.transposeA ?? false, transposeB: options.transposeB ?? false, scale: options.scale ?? 1, plus: options.plus ?? 0,
    biasPerTask: options.bias?.rank === 2,
  };
  const inputs: Record<string, Tensor> = { a, b };
  if (options.base) inputs.base = options.base;
  if (options.bias) inputs.bias = options.bias;
  return run(KERNEL, inputs, attrs);
}

/** The tf.matMul formulation, always (tests compare the kernel against it). */
export const taskMatMulReference = (a: Tensor, b: Tensor, tasks: number, options: TaskMatMulOptions = {}): Tensor => portable(a, b, tasks, options);
