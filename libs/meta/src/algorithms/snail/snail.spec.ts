import { initBackend, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { Snail, snailConfig, snailPlugin } from './snail';

beforeAll(async () => {
  await initBackend('wasm');
});

const model = new Mlp(mlpConfig.parse({ inputSize: 6, hidden: [8], outputSize: 3 }));
const algo = new Snail(snailConfig.parse({ keySize: 4, valueSize: 5, filters: 6, dilations: [1, 2, 4] }));
const own = () => {
  const spec = algo.ownSpec(model);
  const values = algo.init(model, 1).slice(model.spec.length);
  return values.map((v, i) => tf.tensor(v, spec[i].shape as number[]));
};
const maxDiff = (a: Tensor, b: Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

describe('SNAIL-style black-box learner', () => {
  it('is causal: the output at support position t does not depend on later positions', () => {
    tf.tidy(() => {
      const w = own();
      const support = tf.randomNormal([2, 7, 3], 0, 1, 'float32', 1);
      const labels = tf.tensor2d([[0, 1, 2, 0, 1, 2, 0], [2, 2, 1, 0, 0, 1, 2]], undefined, 'int32');
      const query = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 2);
      const base = algo.sequenceLogits(support, labels, query, w, 3).support;
      for (const t of [0, 2, 5]) {
        // Change every position after t (inputs and labels).
        const later = tf.concat([tf.slice(support, [0, 0, 0], [2, t + 1, 3]), tf.randomNormal([2, 6 - t, 3], 3, 2, 'float32', 10 + t)], 1);
        const laterLabels = tf.concat([tf.slice(labels, [0, 0], [2, t + 1]), tf.fill([2, 6 - t], 1, 'int32')], 1);
        const changed = algo.sequenceLogits(later, laterLabels, query, w, 3).support;
        expect(maxDiff(tf.slice(changed, [0, 0, 0], [2, t + 1, 3]), tf.slice(base, [0, 0, 0], [2, t + 1, 3]))).toBeLessThan(1e-6);
        expect(maxDiff(tf.slice(changed, [0, t + 1, 0], [2, -1, 3]), tf.slice(base, [0, t + 1, 0], [2, -1, 3]))).toBeGreaterThan(1e-3);
      }
    });
  });

  it('puts each query after the whole support set on its own: a prediction does not depend on the other queries', () => {
    tf.tidy(() => {
      const w = own();
      const support = tf.randomNormal([2, 6, 3], 0, 1, 'float32', 3);
      const labels = tf.tensor2d([[0, 1, 2, 0, 1, 2], [1, 0, 2, 2, 0, 1]], undefined, 'int32');
      const queries = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 4);
      const all = algo.sequenceLogits(support, labels, queries, w, 3).query;
      for (let j = 0; j < 5; j++) {
        const alone = algo.sequenceLogits(support, labels, tf.slice(queries, [0, j, 0], [2, 1, 3]), w, 3).query;
        expect(maxDiff(alone, tf.slice(all, [0, j, 0], [2, 1, 3]))).toBeLessThan(1e-5);
      }
      // ...but it reads the support set: relabelling the support changes it.
      const relabelled = algo.sequenceLogits(support, tf.sub(2, labels), queries, w, 3).query;
      expect(maxDiff(relabelled, all)).toBeGreaterThan(1e-3);
    });
  });

  it('meta-gradient: the gradient of the query cross-entropy (checked against central differences)', () => {
    tf.tidy(() => {
      const params = algo.init(model, 2).map((v, i) => tf.tensor(v, algo.paramSpec(model)[i].shape as number[]));
      const sy = tf.tensor2d([[0, 1, 2, 1], [2, 1, 0, 0]], undefined, 'int32');
      const batch = { supportX: tf.randomNormal([2, 4, 6], 0, 1, 'float32', 5), supportY: sy, queryX: tf.randomNormal([2, 3, 6], 0, 1, 'float32', 6), queryY: tf.tensor2d([[0, 2, 1], [1, 1, 0]], undefined, 'int32') };
      const input = { model, params, batch, inner: { steps: 1, learningRate: 0.1 }, loss: 'cross-entropy' as const };
      const out = algo.metaGradient(input);
      expect(out.grads.map((g) => g.shape)).toEqual(algo.paramSpec(model).map((p) => p.shape));
      const v = params.map((p, i) => tf.randomNormal(p.shape, 0, 1, 'float32', 100 + i));
      const norm = Math.sqrt(v.reduce((s, x) => s + tf.sum(tf.square(x)).dataSync()[0], 0));
      const loss = (s: number) => algo.metaGradient({ ...input, params: params.map((p, i) => tf.add(p, tf.mul(s / norm, v[i]))) }).metaLoss.dataSync()[0];
      const eps = 1e-2;
      const fd = (loss(eps) - loss(-eps)) / (2 * eps);
      const analytic = out.grads.reduce((s, g, i) => s + tf.sum(tf.mul(g, v[i])).dataSync()[0], 0) / norm;
      expect(Math.abs(analytic - fd)).toBeLessThan(2e-3 + 0.02 * Math.abs(fd));
      const a = algo.adapt({ model, params, supportX: batch.supportX, supportY: sy, inner: { steps: 2, learningRate: 0.1 }, loss: 'cross-entropy', queryX: batch.queryX, queryY: batch.queryY });
      expect(a.queryAccuracies!.shape).toEqual([2, 3]);
      expect(a.queryLosses!.mean().dataSync()[0]).toBeCloseTo(out.metaLoss.dataSync()[0], 5);
    });
  });

  it('is an algorithm plugin whose parameters follow the model\'s', () => {
    const spec = algo.paramSpec(model);
    expect(spec.slice(0, model.spec.length)).toEqual(model.spec);
    expect(spec[model.spec.length].name).toBe('snail/attention0/query');
    expect(algo.init(model, 3).map((v) => v.length)).toEqual(spec.map((p) => p.shape.reduce((a, b) => a * b, 1)));
    expect(snailPlugin.configSchema.safeParse({ dilations: [] }).success).toBe(false);
  });

  it('starts each attention block with keys equal to its queries (keyInit "query"), or independent ones', () => {
    const spec = algo.ownSpec(model);
    const at = (values: Float32Array[], name: string) => values[model.spec.length + spec.findIndex((p) => p.name === name)];
    const tied = algo.init(model, 5);
    const independent = new Snail(snailConfig.parse({ ...algo.config, keyInit: 'independent' })).init(model, 5);
    for (const block of ['attention0', 'attention1']) {
      expect(at(tied, `snail/${block}/key`)).toEqual(at(tied, `snail/${block}/query`));
      expect(at(independent, `snail/${block}/key`)).not.toEqual(at(independent, `snail/${block}/query`));
      // The query projections (and everything else but the keys) are the same draws either way.
      expect(at(independent, `snail/${block}/query`)).toEqual(at(tied, `snail/${block}/query`));
    }
  });
});
