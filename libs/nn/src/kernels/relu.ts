import { tf, type Tensor } from '../tf';
import { offset, registerGradientOnce, registerWasmKernel, run, runWasm, simdFor, wasmKernelsActive } from './wasm';

const RELU = 'ChameleonRelu';
const RELU_MASK = 'ChameleonReluMask';

registerWasmKernel(RELU, ({ inputs: { x }, backend }) => runWasm('Relu', backend, { x }));

registerWasmKernel(RELU_MASK, ({ inputs: { dy, x }, backend }) => {
  const out = backend.makeOutput([...x.shape], 'float32');
  simdFor(backend)!.mask(offset(backend, dy), offset(backend, x), offset(backend, out), x.shape.reduce((a, b) => a * b, 1));
  return out;
});

registerGradientOnce({ kernelName: RELU, inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => reluMask(dy as Tensor, x) }) });

registerGradientOnce({
  kernelName: RELU_MASK,
  inputsToSave: ['x'],
  // The mask is piecewise constant in x: its derivative is zero wherever it is defined.
  gradFunc: (dy, [x]) => ({ dy: () => reluMask(dy as Tensor, x), x: () => tf.zerosLike(x) }),
});

/**
 * ReLU whose gradient is one kernel (tfjs's own is step, cast and multiply).
 */
export function relu(x: Tensor): Tensor {
  return wasmKernelsActive() ? run(RELU, { x }) : tf.relu(x);
}

/**
 * dy * (x > 0): ReLU's backward pass written as a differentiable op, so an explicit inner
 * gradient can itself be differentiated (second-order MAML).
 */
export function reluMask(dy: Tensor, x: Tensor): Tensor {
  const sameShape = dy.shape.length === x.shape.length && dy.shape.every((d, i) => d === x.shape[i]);
  return wasmKernelsActive() && sameShape ? run(RELU_MASK, { dy, x }) : tf.mul(dy, tf.step(x));
}
