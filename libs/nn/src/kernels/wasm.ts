import { tf } from '../tf';
import { simdKernels, type SimdKernels } from './simd';

/**
 * The few internals of @tensorflow/tfjs-backend-wasm our kernels touch: each tensor's byte
 * offset in the heap, the heap's Memory (imported by the SIMD module), one 4-byte malloc
 * per backend, and freeing an intermediate result. Everything else goes through registered
 * kernels (tf.getKernel), which is public API. If a tfjs upgrade hides the Memory, simdFor()
 * returns undefined and every op falls back to plain tf ops (the tests then fail loudly on
 * wasmKernelsActive(), rather than silently measuring the fallback).
 */
export interface WasmBackend {
  readonly wasm: { readonly asm?: { readonly memory?: unknown }; _malloc(bytes: number): number; readonly HEAPF32: Float32Array };
  readonly dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

type Inputs = Record<string, tf.TensorInfo>;

/** Byte offset of a tensor's data in the wasm heap. */
export const offset = (backend: WasmBackend, t: tf.TensorInfo): number => backend.dataIdMap.get(t.dataId).memoryOffset;

/** The same data under another shape (no copy, no reference count: for passing to a kernel). */
export const view = (t: tf.TensorInfo, shape: number[]): tf.TensorInfo => ({ dataId: t.dataId, shape, dtype: t.dtype });

const kernels = new Map<string, tf.KernelFunc>();

/** Runs another wasm kernel directly, without the engine's bookkeeping (we are inside a kernel). */
export function runWasm(name: string, backend: WasmBackend, inputs: Inputs, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
  let kernelFunc = kernels.get(name);
  if (!kernelFunc) {
    kernelFunc = tf.getKernel(name, 'wasm')?.kernelFunc;
    if (!kernelFunc) throw new Error(`the wasm backend has no ${name} kernel`);
    kernels.set(name, kernelFunc);
  }
  return kernelFunc({ inputs, backend: backend as never, attrs }) as tf.TensorInfo;
}

/** Frees an intermediate produced by runWasm. */
export const free = (backend: WasmBackend, t: tf.TensorInfo): void => void backend.disposeData(t.dataId);

const simdByBackend = new WeakMap<object, SimdKernels | null>();

/** The SIMD kernels bound to this backend's heap, or undefined when they cannot run here. */
export function simdFor(backend: WasmBackend): SimdKernels | undefined {
  let k = simdByBackend.get(backend);
  if (k === undefined) {
    k = simdKernels(backend.wasm?.asm?.memory) ?? null;
    simdByBackend.set(backend, k);
  }
  return k ?? undefined;
}

const ones = new WeakMap<object, number>();

/** Byte offset of a 1.0 that lives as long as the backend (read at stride 0 as a row of ones). */
export function one(backend: WasmBackend): number {
  let ptr = ones.get(backend);
  if (ptr === undefined) {
    ptr = backend.wasm._malloc(4) >>> 0;
    backend.wasm.HEAPF32[ptr >>> 2] = 1;
    ones.set(backend, ptr);
  }
  return ptr;
}

/** True when the active backend is wasm and our SIMD kernels can run on its heap. */
export function wasmKernelsActive(): boolean {
  return tf.getBackend() === 'wasm' && simdFor(tf.backend() as unknown as WasmBackend) !== undefined;
}

/** Registers a kernel for the wasm backend once per process. */
export function registerWasmKernel(name: string, kernelFunc: (args: { inputs: Inputs; backend: WasmBackend; attrs: tf.NamedAttrMap }) => tf.TensorInfo): void {
  if (tf.getKernel(name, 'wasm')) return;
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/** Registers a gradient once per process (re-registering would log a warning). */
export function registerGradientOnce(config: tf.GradConfig): void {
  if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
}

/** Runs a registered kernel through the engine, so it is recorded on the gradient tape. */
export const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap = {}): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;
