import { tf, type Tensor } from '../tf';
import { blockProducts } from './simd';
import { offset, registerGradientOnce, registerWasmKernel, run, simdFor, wasmKernelsActive } from './wasm';

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
}

interface Attrs {
  tasks: number;
  transposeA: boolean;
  transposeB: boolean;
  scale: number;
  plus: number;
}

/** Rows and columns of one task's block: [T, r, c] or task-major rows [T * r, c]. */
function block(t: tf.TensorInfo, tasks: number): [number, number] {
  const s = t.shape;
  if (s.length === 3 && s[0] === tasks) return [s[1], s[2]];
  if (s.length === 2 && s[0] % tasks === 0) return [s[0] / tasks, s[1]];
  throw new Error(`taskMatMul: shape [${s.join(', ')}] does not split into ${tasks} task blocks`);
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

registerWasmKernel(KERNEL, ({ inputs: { a, b, base }, backend, attrs }) => {
  const { tasks, transposeA, transposeB, scale, plus } = attrs as unknown as Attrs;
  const { m, k, n, shape } = dims(a, b, base, tasks, transposeA, transposeB);
  const out = backend.makeOutput(shape, 'float32');
  const epilogue = { scale, plus, base: base ? offset(backend, base) : 0 };
  blockProducts(simdFor(backend)!, offset(backend, a), offset(backend, b), offset(backend, out), tasks, m, k, n, transposeA, transposeB, epilogue);
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
    const base = { base: () => d };
    if (transposeA) return { ...base, a: () => mm(b, d, false, true), b: () => mm(a, d, false, false) };
    if (transposeB) return { ...base, a: () => mm(d, b, false, false), b: () => mm(d, a, true, false) };
    return { ...base, a: () => mm(d, b, false, true), b: () => mm(a, d, true, false) };
  },
});

/** tf.matMul over task blocks: the reference implementation, and the one off wasm. */
function portable(a: Tensor, b: Tensor, tasks: number, o: TaskMatMulOptions): Tensor {
  const { shape } = dims(a, b, o.base, tasks, o.transposeA ?? false, o.transposeB ?? false);
  const as3 = (t: Tensor) => tf.reshape(t, [tasks, -1, t.shape[t.shape.length - 1]]);
  let y = tf.reshape(tf.matMul(as3(a), as3(b), o.transposeA, o.transposeB), shape);
  if (o.scale !== undefined && o.scale !== 1) y = tf.mul(y, o.scale);
  if (o.plus) y = tf.add(y, o.plus);
  return o.base ? tf.add(o.base, y) : y;
}

/**
 * Per-task matrix products: for each of `tasks` blocks, base + scale * op(A_t) . op(B_t) +
 * plus. Blocks are either a leading task axis [T, r, c] or task-major rows [T * r, c] (so a
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
  const attrs = { tasks, transposeA: options.transposeA ?? false, transposeB: options.transposeB ?? false, scale: options.scale ?? 1, plus: options.plus ?? 0 };
  return run(KERNEL, options.base ? { a, b, base: options.base } : { a, b }, attrs);
}

/** The tf.matMul formulation, always (tests compare the kernel against it). */
export const taskMatMulReference = (a: Tensor, b: Tensor, tasks: number, options: TaskMatMulOptions = {}): Tensor => portable(a, b, tasks, options);
