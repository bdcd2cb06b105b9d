import { tf, type Tensor } from '../tf';
import { offset, registerGradientOnce, registerWasmKernel, run, simdFor, wasmKernelsActive } from './wasm';

const MUL_ADD2 = 'ChameleonMulAdd2';

registerWasmKernel(MUL_ADD2, ({ inputs: { a, b, c, d }, backend }) => {
  const out = backend.makeOutput([...a.shape], 'float32');
  simdFor(backend)!.muladd2(offset(backend, a), offset(backend, b), offset(backend, c), offset(backend, d), offset(backend, out), a.shape.reduce((x, y) => x * y, 1));
  return out;
});

registerGradientOnce({
  kernelName: MUL_ADD2,
  inputsToSave: ['a', 'b', 'c', 'd'],
  gradFunc: (dy, [a, b, c, d]) => ({
    a: () => tf.mul(dy as Tensor, b),
    b: () => tf.mul(dy as Tensor, a),
    c: () => tf.mul(dy as Tensor, d),
    d: () => tf.mul(dy as Tensor, c),
  }),
});

const same = (...ts: Tensor[]) => ts.every((t) => t.dtype === 'float32' && t.shape.length === ts[0].shape.length && t.shape.every((n, i) => n === ts[0].shape[i]));

/**
 * a * b + c * d for four tensors of one shape: one SIMD pass on wasm (a layer's backward
 * pass through a product, f' times one term plus f'' times another) instead of three ops
 * and two intermediates; tf ops elsewhere (and for broadcasting shapes).
 */
export function mulAdd2(a: Tensor, b: Tensor, c: Tensor, d: Tensor): Tensor {
  return wasmKernelsActive() && same(a, b, c, d) ? run(MUL_ADD2, { a, b, c, d }) : tf.add(tf.mul(a, b), tf.mul(c, d));
}
