import { logSoftmax2 } from './activations';
import { initBackend } from './backend';
import { tf, type Tensor } from './tf';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('logSoftmax2', () => {
  it('equals tf.logSoftmax, also for large logits', () => {
    tf.tidy(() => {
      const z = tf.tensor2d([[1, 2, 3], [1000, 1001, 999]]);
      const want = tf.logSoftmax(z).dataSync();
      logSoftmax2(z).dataSync().forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    });
  });

  it('has the exact second derivative (tf.logSoftmax does not): Hessian-vector product vs finite differences', () => {
    tf.tidy(() => {
      const z = tf.tensor2d([[0.3, -1.2, 0.8, 0.1], [2.0, 0.5, -0.4, 1.1]]);
      const w = tf.tensor2d([[1, 0, 0, 0], [0, 0, 1, 0]]);
      const u = tf.tensor2d([[0.5, -1, 0.25, 2], [-0.3, 0.7, 1.5, -2]]);
      // g(z) = d/dz sum(w * logSoftmax(z)); Hv = d/dz sum(u * g(z)).
      const grad = (f: (x: Tensor) => Tensor) => tf.grad((x: Tensor) => tf.sum(tf.mul(w, f(x))));
      const hv = (f: (x: Tensor) => Tensor) => tf.grad((x: Tensor) => tf.sum(tf.mul(u, grad(f)(x))))(z);
      const eps = 1e-2;
      const g = grad(logSoftmax2);
      // Central differences of g along z's coordinates, contracted with u: (d g / dz)^T u.
      const fd = Array.from({ length: 8 }, (_, i) => {
        const e = tf.oneHot(i, 8).reshape([2, 4]).mul(eps);
        return tf.sum(tf.mul(u, tf.sub(g(tf.add(z, e)), g(tf.sub(z, e))))).dataSync()[0] / (2 * eps);
      });
      const exact = hv(logSoftmax2).dataSync();
      fd.forEach((v, i) => expect(exact[i]).toBeCloseTo(v, 3));
      // The control: tfjs's own log-softmax gradient is disconnected from z (it reads a saved
      // copy of the output), so the second derivative cannot even be taken.
      expect(() => hv((x) => tf.logSoftmax(x))).toThrow(/Cannot compute gradient/);
    });
  });
});
