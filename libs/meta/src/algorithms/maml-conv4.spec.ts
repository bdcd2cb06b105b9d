import { initBackend, tf, type Tensor } from '@chameleon/nn';
import { Conv4, conv4Config } from '@chameleon/nn/src/conv4';
import { secondOrderMetaGradient } from './maml';

describe('second-order MAML on conv-4', () => {
  beforeAll(() => initBackend('wasm'));

  it('works at meta-batch 1 and equals the meta-batch-2 gradient of the same task twice', () => {
    const model = new Conv4(conv4Config.parse({ inputShape: [16, 16, 1], filters: 4, ways: 3 }));
    const theta = model.init(1).map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));
    const x = tf.randomUniform([1, 3, 16, 16, 1], 0, 1, 'float32', 4);
    const q = tf.randomUniform([1, 3, 16, 16, 1], 0, 1, 'float32', 5);
    const y = tf.tensor2d([[0, 1, 2]], [1, 3], 'int32');
    const twice = (t: Tensor) => tf.concat([t, t], 0);
    const inner = { steps: 1, learningRate: 0.1 };
    const one = secondOrderMetaGradient({ model, params: theta, batch: { supportX: x, supportY: y, queryX: q, queryY: y }, inner, loss: 'cross-entropy' });
    const two = secondOrderMetaGradient({ model, params: theta, batch: { supportX: twice(x), supportY: twice(y), queryX: twice(q), queryY: twice(y) }, inner, loss: 'cross-entropy' });
    expect(one.grads).toHaveLength(theta.length);
    one.grads.forEach((g, i) => {
      const a = g.dataSync();
      const b = two.grads[i].dataSync();
      const scale = Math.max(...Array.from(b, Math.abs), 1e-6);
      expect(Math.max(...Array.from(a, (v, j) => Math.abs(v - b[j]))) / scale).toBeLessThan(1e-4);
    });
    // The inner step changed something: the gradient is not the zero vector.
    expect(Math.max(...one.grads.map((g) => tf.max(tf.abs(g)).dataSync()[0]))).toBeGreaterThan(0);
  });
});
