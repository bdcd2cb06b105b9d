import { crossEntropyPerTask, initBackend, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { Conv4, conv4Config } from '@chameleon/nn/src/conv4';
import { initialState, optimiserConfig, optimiserStep } from '../../optim/optimiser';
import type { MetaBatch } from '../../types';
import { Embedding } from './embedding';
import { ProtoNets, negativeSquaredDistances, protoNetsPlugin, prototypes } from './protonets';

beforeAll(async () => {
  await initBackend('wasm');
});

const params = (values: Float32Array[], shapes: { shape: readonly number[] }[]) => values.map((v, i) => tf.tensor(v, shapes[i].shape as number[]));

/** Gaussian clusters: class c of task t is centred at a random point; labels in shuffled order. */
function clusterBatch(T: number, ways: number, shots: number, queries: number, dim: number, seed: number): MetaBatch {
  const centres = tf.randomNormal([T, ways, dim], 0, 2, 'float32', seed);
  const draw = (n: number, s: number) => {
    const labels = tf.tensor2d(Array.from({ length: T }, (_, t) => Array.from({ length: n }, (_, i) => (i + t) % ways)), undefined, 'int32');
    const mean = tf.matMul(tf.oneHot(labels, ways), centres); // [T, n, dim]
    return { x: tf.add(mean, tf.randomNormal([T, n, dim], 0, 0.5, 'float32', s)), y: labels };
  };
  const s = draw(ways * shots, seed + 1);
  const q = draw(ways * queries, seed + 2);
  return { supportX: s.x, supportY: s.y, queryX: q.x, queryY: q.y };
}

describe('ProtoNets', () => {
  it('prototypes are exactly the class means of the support embeddings (any number of examples per class)', () => {
    tf.tidy(() => {
      const emb = tf.randomNormal([2, 7, 3], 0, 1, 'float32', 1);
      const labels = tf.tensor2d([[0, 1, 1, 2, 2, 2, 0], [2, 2, 2, 2, 1, 0, 1]], undefined, 'int32');
      const got = prototypes(emb, labels, 3).arraySync() as number[][][];
      const e = emb.arraySync() as number[][][];
      const l = labels.arraySync() as number[][];
      for (let t = 0; t < 2; t++) {
        for (let c = 0; c < 3; c++) {
          const members = e[t].filter((_, i) => l[t][i] === c);
          const mean = [0, 1, 2].map((d) => members.reduce((s, m) => s + m[d], 0) / members.length);
          mean.forEach((v, d) => expect(got[t][c][d]).toBeCloseTo(v, 6));
        }
      }
    });
  });

  it('logits are negative squared Euclidean distances', () => {
    tf.tidy(() => {
      const q = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 2);
      const p = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 3);
      const want = tf.neg(tf.sum(tf.square(tf.sub(tf.expandDims(q, 2), tf.expandDims(p, 1))), -1));
      expect(tf.max(tf.abs(tf.sub(negativeSquaredDistances(q, p), want))).dataSync()[0]).toBeLessThan(1e-5);
    });
  });

  it('meta-gradient: the gradient of the query cross-entropy w.r.t. the conv-4 body, zero for the unused head', () => {
    tf.tidy(() => {
      const model = new Conv4(conv4Config.parse({ inputShape: [16, 16, 1], filters: 4, ways: 3 }));
      const theta = params(model.init(1), model.spec);
      const labels = tf.tensor2d([[0, 1, 2, 1, 0, 2], [2, 0, 1, 0, 1, 2]], undefined, 'int32');
      const batch = { supportX: tf.randomUniform([2, 6, 16, 16, 1], 0, 1, 'float32', 4), supportY: labels, queryX: tf.randomUniform([2, 6, 16, 16, 1], 0, 1, 'float32', 5), queryY: labels };
      const out = new ProtoNets().metaGradient({ model, params: theta, batch, inner: { steps: 5, learningRate: 0.1 }, loss: 'cross-entropy' });
      // The same objective written out directly: embed the episode, prototypes, distances, CE.
      const direct = (...p: Tensor[]) => {
        const emb = model.embed(p, tf.concat([batch.supportX, batch.queryX], 1));
        const [s, q] = [tf.slice(emb, [0, 0, 0], [2, 6, -1]), tf.slice(emb, [0, 6, 0], [2, 6, -1])];
        return tf.mean(crossEntropyPerTask(negativeSquaredDistances(q, prototypes(s, labels, 3)), labels)) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(direct)(theta.slice(0, model.embeddingParams));
      expect(out.metaLoss.dataSync()[0]).toBeCloseTo(value.dataSync()[0], 5);
      grads.forEach((g, i) => expect(tf.max(tf.abs(tf.sub(out.grads[i], g))).dataSync()[0]).toBeLessThan(1e-5 * Math.max(1, tf.max(tf.abs(g)).dataSync()[0])));
      expect(out.grads.slice(model.embeddingParams).every((g) => tf.max(tf.abs(g)).dataSync()[0] === 0)).toBe(true);
      expect(out.supportLosses.shape).toEqual([2, 1]);
    });
  });

  it('adapt reports the same query loss and accuracy at every "step" (no gradient adaptation), equal to the training objective', () => {
    tf.tidy(() => {
      const model = new Mlp(mlpConfig.parse({ inputSize: 4, hidden: [16], outputSize: 5 }));
      const theta = params(model.init(2), model.spec);
      const batch = clusterBatch(3, 5, 2, 3, 4, 7);
      const algo = new ProtoNets(protoNetsPlugin.configSchema.parse({ embedding: 'output' }));
      const a = algo.adapt({ model, params: theta, supportX: batch.supportX, supportY: batch.supportY, inner: { steps: 4, learningRate: 0.5 }, loss: 'cross-entropy', queryX: batch.queryX, queryY: batch.queryY });
      expect(a.queryLosses!.shape).toEqual([3, 5]);
      const rows = a.queryLosses!.arraySync() as number[][];
      rows.forEach((r) => r.forEach((v) => expect(v).toBe(r[0])));
      const g = algo.metaGradient({ model, params: theta, batch, inner: { steps: 4, learningRate: 0.5 }, loss: 'cross-entropy' });
      expect(g.metaLoss.dataSync()[0]).toBeCloseTo(rows.reduce((s, r) => s + r[0], 0) / 3, 5);
      expect(a.phi[0].shape).toEqual([3, ...model.spec[0].shape]);
      expect(() => algo.metaGradient({ model, params: theta, batch, inner: { steps: 1, learningRate: 0 }, loss: 'mse' })).toThrow(/int32 labels/);
    });
  });

  it('learns: a few Adam steps on Gaussian-cluster tasks lower the query loss (MLP embedding, all parameters used)', () => {
    const model = new Mlp(mlpConfig.parse({ inputSize: 8, hidden: [32], outputSize: 8 }));
    const algo = new ProtoNets({ embedding: 'output' });
    expect(new Embedding(model, 'body').used).toBe(model.spec.length);
    const names = model.spec.map((p) => p.name);
    let values = model.init(3);
    const adam = optimiserConfig.parse({ name: 'adam', learningRate: 0.01 });
    let state = initialState(adam, names, values.map((v) => v.length));
    const lossAt = (i: number) =>
      tf.tidy(() => {
        const batch = clusterBatch(8, 5, 1, 5, 8, 100 + i);
        const out = algo.metaGradient({ model, params: params(values, model.spec), batch, inner: { steps: 0, learningRate: 0 }, loss: 'cross-entropy' });
        return { loss: out.metaLoss.dataSync()[0], grads: out.grads.map((g) => g.dataSync() as Float32Array) };
      });
    const before = [0, 1, 2].map((i) => lossAt(1000 + i).loss).reduce((a, b) => a + b) / 3;
    for (let i = 0; i < 60; i++) {
      const next = optimiserStep(adam, names, values, lossAt(i).grads, state);
      [values, state] = [next.params, next.state];
    }
    const after = [0, 1, 2].map((i) => lossAt(1000 + i).loss).reduce((a, b) => a + b) / 3;
    expect(after).toBeLessThan(0.8 * before);
  });
});
