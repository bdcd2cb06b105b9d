import { crossEntropyPerTask, initBackend, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { MatchingNetworks, matchingAttention, matchingLogProbabilities, matchingPlugin } from './matching';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Matching networks', () => {
  it('attention over the support set sums to one for every query, with a softmax over scaled cosine similarities', () => {
    tf.tidy(() => {
      const q = tf.randomNormal([3, 4, 6], 0, 1, 'float32', 1);
      const s = tf.randomNormal([3, 7, 6], 0, 1, 'float32', 2);
      for (const scale of [1, 10]) {
        const a = matchingAttention(q, s, scale);
        expect(a.shape).toEqual([3, 4, 7]);
        const sums = tf.sum(a, -1).dataSync();
        sums.forEach((v) => expect(v).toBeCloseTo(1, 5));
        expect(tf.min(a).dataSync()[0]).toBeGreaterThan(0);
      }
      // Cosine: invariant to the length of the embeddings.
      const a1 = matchingAttention(q, s, 3);
      const a2 = matchingAttention(tf.mul(q, 5), tf.mul(s, 0.2), 3);
      expect(tf.max(tf.abs(tf.sub(a1, a2))).dataSync()[0]).toBeLessThan(1e-5);
      // A query pointing exactly along one support embedding attends to it most.
      const one = matchingAttention(tf.slice(s, [0, 2, 0], [1, 1, -1]), tf.slice(s, [0, 0, 0], [1, -1, -1]), 10);
      expect(tf.argMax(one, -1).dataSync()[0]).toBe(2);
    });
  });

  it('class probabilities are the attention summed over each class\'s support examples', () => {
    tf.tidy(() => {
      const a = matchingAttention(tf.randomNormal([1, 2, 4], 0, 1, 'float32', 3), tf.randomNormal([1, 5, 4], 0, 1, 'float32', 4));
      const labels = tf.tensor2d([[2, 0, 2, 1, 0]], undefined, 'int32');
      const p = tf.exp(matchingLogProbabilities(a, labels, 3)).arraySync() as number[][][];
      const w = a.arraySync() as number[][][];
      for (let i = 0; i < 2; i++) {
        expect(p[0][i][0]).toBeCloseTo(w[0][i][1] + w[0][i][4], 5);
        expect(p[0][i][1]).toBeCloseTo(w[0][i][3], 5);
        expect(p[0][i][2]).toBeCloseTo(w[0][i][0] + w[0][i][2], 5);
      }
    });
  });

  it('meta-gradient is the gradient of -log P(y | x, S) of the queries; adapt repeats it at every step', () => {
    tf.tidy(() => {
      const model = new Mlp(mlpConfig.parse({ inputSize: 5, hidden: [8], outputSize: 4 }));
      const theta = model.init(1).map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));
      const sy = tf.tensor2d([[0, 1, 2, 3], [3, 2, 1, 0]], undefined, 'int32');
      const qy = tf.tensor2d([[1, 1, 0, 3, 2, 2], [0, 0, 1, 2, 3, 3]], undefined, 'int32');
      const batch = { supportX: tf.randomNormal([2, 4, 5], 0, 1, 'float32', 5), supportY: sy, queryX: tf.randomNormal([2, 6, 5], 0, 1, 'float32', 6), queryY: qy };
      const algo = new MatchingNetworks(matchingPlugin.configSchema.parse({ scale: 5 }));
      const out = algo.metaGradient({ model, params: theta, batch, inner: { steps: 3, learningRate: 1 }, loss: 'cross-entropy' });
      const direct = (...p: Tensor[]) => {
        const emb = (x: Tensor) => tf.reshape(model.forward(p, tf.reshape(x, [-1, 5])), [2, -1, 4]);
        const prob = tf.matMul(matchingAttention(emb(batch.queryX), emb(batch.supportX), 5), tf.oneHot(sy, 4));
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(qy, 4), tf.log(prob)), -1))) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(direct)(theta);
      expect(out.metaLoss.dataSync()[0]).toBeCloseTo(value.dataSync()[0], 5);
      grads.forEach((g, i) => expect(tf.max(tf.abs(tf.sub(out.grads[i], g))).dataSync()[0]).toBeLessThan(1e-5));
      const a = algo.adapt({ model, params: theta, supportX: batch.supportX, supportY: sy, inner: { steps: 2, learningRate: 1 }, loss: 'cross-entropy', queryX: batch.queryX, queryY: qy });
      const rows = a.queryLosses!.arraySync() as number[][];
      expect(rows[0]).toEqual([rows[0][0], rows[0][0], rows[0][0]]);
      expect(rows[0][0]).toBeCloseTo(crossEntropyPerTask(tf.log(tf.matMul(matchingAttention(tf.reshape(model.forward(theta, tf.reshape(batch.queryX, [-1, 5])), [2, -1, 4]), tf.reshape(model.forward(theta, tf.reshape(batch.supportX, [-1, 5])), [2, -1, 4]), 5), tf.oneHot(sy, 4))), qy).dataSync()[0], 4);
    });
  });
});
