import { tf, type Tensor } from '../tf';

/**
 * 2x2 / stride-2 max-pooling whose gradient is differentiable again. Two kernels, each the
 * adjoint of the other, both reading the argmax from x (first maximum of each window, the
 * tie rule of tfjs's MaxPoolGrad):
 *   scatter(dy, x): dy [n, ho, wo, c] put at each window's argmax of x [n, h, w, c]
 *   gather(g, x):   g [n, h, w, c] read at each window's argmax of x -> [n, ho, wo, c]
 * The argmax is piecewise constant in x, so both have zero gradient with respect to x.
 * Kernels run in JS on the backend's own buffers (wasm heap, cpu arrays); other backends
 * (tfjs-node) get the same maths from tf ops (a mask, slower).
 */
const SCATTER = 'ChameleonPool2Scatter';
const GATHER = 'ChameleonPool2Gather';

interface Buffers {
  /** Allocates the output, then hands fill views of it and of the inputs (in that order, since an allocation may move the wasm heap). */
  output(shape: number[], inputs: tf.TensorInfo[], fill: (out: Float32Array, ins: Float32Array[]) => void): tf.TensorInfo;
}

interface WasmLike {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}
interface CpuLike {
  data: { get(id: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

const wasmBuffers = (b: WasmLike): Buffers => ({
  output: (shape, inputs, fill) => {
    const out = b.makeOutput(shape, 'float32');
    const view = b.typedArrayFromHeap(out);
    view.fill(0);
    fill(view, inputs.map((t) => b.typedArrayFromHeap(t)));
    return out;
  },
});

const cpuBuffers = (b: CpuLike): Buffers => ({
  output: (shape, inputs, fill) => {
    const values = new Float32Array(shape.reduce((a, c) => a * c, 1));
    fill(values, inputs.map((t) => b.data.get(t.dataId).values));
    return b.makeTensorInfo(shape, 'float32', values);
  },
});

/** Calls visit(windowIndex, argmaxIndex) for every 2x2 window of x [n, h, w, c]. */
function forEachArgmax(xv: Float32Array, [n, h, w, c]: number[], visit: (out: number, at: number) => void): void {
  const [ho, wo] = [h >> 1, w >> 1];
  let out = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const base = ((b * h + 2 * i) * w + 2 * j) * c;
        const right = c;
        const down = w * c;
        for (let k = 0; k < c; k++, out++) {
          const p = base + k;
          let at = p;
          let best = xv[p];
          if (xv[p + right] > best) [at, best] = [p + right, xv[p + right]];
          if (xv[p + down] > best) [at, best] = [p + down, xv[p + down]];
          if (xv[p + down + right] > best) at = p + down + right;
          visit(out, at);
        }
      }
    }
  }
}

function scatterKernel(buffers: Buffers, dy: tf.TensorInfo, x: tf.TensorInfo): tf.TensorInfo {
  return buffers.output([...x.shape], [dy, x], (o, [dv, xv]) => forEachArgmax(xv, x.shape, (out, at) => (o[at] = dv[out])));
}

function gatherKernel(buffers: Buffers, g: tf.TensorInfo, x: tf.TensorInfo): tf.TensorInfo {
  const [n, h, w, c] = x.shape;
  return buffers.output([n, h >> 1, w >> 1, c], [g, x], (o, [gv, xv]) => forEachArgmax(xv, x.shape, (out, at) => (o[out] = gv[at])));
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  const backends: Array<[string, (b: unknown) => Buffers]> = [
    ['wasm', (b) => wasmBuffers(b as WasmLike)],
    ['cpu', (b) => cpuBuffers(b as CpuLike)],
  ];
  for (const [backendName, buffers] of backends) {
    if (!tf.getKernel(SCATTER, backendName)) {
      tf.registerKernel({ kernelName: SCATTER, backendName, kernelFunc: (({ inputs, backend }: { inputs: Record<string, tf.TensorInfo>; backend: unknown }) => scatterKernel(buffers(backend), inputs.dy, inputs.x)) as never });
    }
    if (!tf.getKernel(GATHER, backendName)) {
      tf.registerKernel({ kernelName: GATHER, backendName, kernelFunc: (({ inputs, backend }: { inputs: Record<string, tf.TensorInfo>; backend: unknown }) => gatherKernel(buffers(backend), inputs.g, inputs.x)) as never });
    }
  }
  if (!tf.getGradient(SCATTER)) {
    tf.registerGradient({ kernelName: SCATTER, inputsToSave: ['x'], gradFunc: (d, [x]) => ({ dy: () => gather(d as Tensor, x), x: () => tf.zerosLike(x) }) });
  }
  if (!tf.getGradient(GATHER)) {
    tf.registerGradient({ kernelName: GATHER, inputsToSave: ['x'], gradFunc: (d, [x]) => ({ g: () => scatter(d as Tensor, x), x: () => tf.zerosLike(x) }) });
  }
}

const hasKernels = () => tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu';

/** 1 at each window's maximum (every maximum on ties), 0 elsewhere, over the covered part of x. */
function mask(x: Tensor): Tensor {
  const [n, h, w, c] = x.shape;
  const [ho, wo] = [h >> 1, w >> 1];
  const covered = tf.reshape(tf.slice(x, [0, 0, 0, 0], [n, 2 * ho, 2 * wo, c]), [n, ho, 2, wo, 2, c]);
  const max = tf.reshape(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), [n, ho, 1, wo, 1, c]);
  return tf.cast(tf.equal(covered, max), 'float32');
}

function scatter(dy: Tensor, x: Tensor): Tensor {
  if (hasKernels()) {
    register();
    return tf.engine().runKernel(SCATTER, { dy, x }) as Tensor;
  }
  const [n, h, w, c] = x.shape;
  const [ho, wo] = [h >> 1, w >> 1];
  const g = tf.reshape(tf.mul(mask(x), tf.reshape(dy, [n, ho, 1, wo, 1, c])), [n, 2 * ho, 2 * wo, c]);
  return tf.pad(g, [[0, 0], [0, h - 2 * ho], [0, w - 2 * wo], [0, 0]]);
}

function gather(g: Tensor, x: Tensor): Tensor {
  if (hasKernels()) {
    register();
    return tf.engine().runKernel(GATHER, { g, x }) as Tensor;
  }
  const [n, h, w, c] = x.shape;
  const [ho, wo] = [h >> 1, w >> 1];
  const covered = tf.reshape(tf.slice(g, [0, 0, 0, 0], [n, 2 * ho, 2 * wo, c]), [n, ho, 2, wo, 2, c]);
  return tf.sum(tf.mul(mask(x), covered), [2, 4]);
}

const pool = tf.customGrad(((x: Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return { value: tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), gradFunc: (dy: Tensor, [xs]: Tensor[]) => scatter(dy, xs) };
}) as never) as unknown as (x: Tensor) => Tensor;

/**
 * 2x2 max-pooling with stride 2 and "valid" windows (an odd last row or column is dropped,
 * as in MAML's conv-4: 28 -> 14 -> 7 -> 3 -> 1), differentiable to any order.
 */
export const maxPool2x2 = (x: Tensor): Tensor => pool(x);

/** The adjoint pair, exported for tests. */
export const poolScatter = scatter;
export const poolGather = gather;
