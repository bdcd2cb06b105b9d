import { initBackend, lossPerTask, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { sgdAdapt } from '../../adapt';
import { metaGradientHost } from '../../host';
import { initialState, optimiserConfig, optimiserStep } from '../../optim/optimiser';
import { sinusoidBatch } from '../../test-helpers';
import { describeAlgorithmContract, finiteDifferences, sinusoidHostBatch, withinFd } from '../common/contract';
import { MetaSgd, metaSgdConfig } from './meta-sgd';

beforeAll(async () => {
  await initBackend('wasm');
});

// tanh: a smooth objective, so central differences are meaningful.
const model = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [8, 8], outputSize: 1, activation: 'tanh', init: 0.5 }));
const n = model.spec.length;

describeAlgorithmContract('meta-sgd', () => new MetaSgd());

describe('Meta-SGD', () => {
  it('initialises alpha uniformly in [0.005, 0.1] (the paper), or to the configured value', () => {
    const alpha = new MetaSgd().init(model, 3).slice(n).flatMap((a) => Array.from(a));
    expect(Math.min(...alpha)).toBeGreaterThanOrEqual(0.005);
    expect(Math.max(...alpha)).toBeLessThan(0.1);
    expect(Math.max(...alpha) - Math.min(...alpha)).toBeGreaterThan(0.05);
    const fixed = new MetaSgd(metaSgdConfig.parse({ alphaInit: 0.01 })).init(model, 3).slice(n).flatMap((a) => Array.from(a));
    expect(fixed.every((v) => Math.abs(v - 0.01) < 1e-9)).toBe(true);
    expect(new MetaSgd().paramSpec(model).slice(n).map((p) => p.name)).toEqual(model.spec.map((p) => `alpha/${p.name}`));
  });

  it.each([1, 2])('matches central finite differences w.r.t. theta and alpha (%i inner steps)', (steps) => {
    tf.tidy(() => {
      const alg = new MetaSgd();
      const spec = alg.paramSpec(model);
      const batch = sinusoidBatch(3, 5, 5, 4);
      const inner = { steps, learningRate: 0 };
      const params = alg.init(model, 11).map((v, i) => tf.tensor(v, spec[i].shape as number[]));
      const objective = (p: Tensor[]) =>
        tf.tidy(() => {
          const a = sgdAdapt({ model, params: p.slice(0, n), supportX: batch.supportX, supportY: batch.supportY, inner, loss: 'mse' }, p.slice(n));
          return tf.mean(lossPerTask('mse', model.forwardPerTask(a.phi, batch.queryX), batch.queryY)).dataSync()[0];
        });
      const out = alg.metaGradient({ model, params, batch, inner, loss: 'mse' });
      expect(out.metaLoss.dataSync()[0]).toBeCloseTo(objective(params), 5);
      // Directions in the whole space, then in the theta block and the alpha block alone
      // (the other block held fixed, its gradient zeroed).
      const full = finiteDifferences(spec, params, out.grads, objective, { seed: 1 });
      for (const c of full) expect(withinFd(c)).toBe(true);
      // The test can tell first from second order: the first-order gradient misses by far more.
      const fo = new MetaSgd(metaSgdConfig.parse({ firstOrder: true })).metaGradient({ model, params, batch, inner, loss: 'mse' });
      const foChecks = finiteDifferences(spec, params, fo.grads, objective, { seed: 1 });
      expect(Math.max(...foChecks.map((c) => Math.abs(c.analytic - c.fd)))).toBeGreaterThan(2e-2);
      const block = (inBlock: (i: number) => boolean, seed: number) =>
        finiteDifferences(
          spec,
          params,
          out.grads.map((g, i) => (inBlock(i) ? g : tf.zerosLike(g))),
          (p) => objective(p.map((t, i) => (inBlock(i) ? t : params[i]))),
          { seed },
        );
      const thetaChecks = block((i) => i < n, 20);
      const alphaChecks = block((i) => i >= n, 40);
      for (const c of [...thetaChecks, ...alphaChecks]) expect(withinFd(c)).toBe(true);
      expect(Math.max(...alphaChecks.map((c) => Math.abs(c.fd)))).toBeGreaterThan(1e-2);
    });
  });

  it('the step sizes receive non-zero gradients and change after an optimiser step', () => {
    const alg = new MetaSgd();
    const spec = alg.paramSpec(model);
    const names = spec.map((p) => p.name);
    const params = alg.init(model, 2);
    const r = metaGradientHost(alg, model, params, sinusoidHostBatch(5, 10, 10), { steps: 1, learningRate: 0 });
    for (let i = n; i < spec.length; i++) expect(r.grads[i].some((v) => v !== 0)).toBe(true);
    const cfg = optimiserConfig.parse({});
    const next = optimiserStep(cfg, names, params, r.grads, initialState(cfg, names, params.map((p) => p.length)));
    for (let i = n; i < spec.length; i++) expect(Array.from(next.params[i]).some((v, j) => v !== params[i][j])).toBe(true);
  });

  it('adapts with the learned step sizes, not the inner learning rate', () => {
    tf.tidy(() => {
      const alg = new MetaSgd();
      const spec = alg.paramSpec(model);
      const batch = sinusoidBatch(2, 5, 5, 9);
      const params = alg.init(model, 4).map((v, i) => tf.tensor(v, spec[i].shape as number[]));
      const a = alg.adapt({ model, params, supportX: batch.supportX, supportY: batch.supportY, inner: { steps: 1, learningRate: 123 }, loss: 'mse' });
      for (let t = 0; t < 2; t++) {
        const g = tf.grads((...p: Tensor[]) => tf.mean(tf.squaredDifference(model.forward(p, tf.gather(batch.supportX, t)), tf.gather(batch.supportY, t))))(params.slice(0, n));
        g.forEach((gi, i) => {
          const want = tf.sub(params[i], tf.mul(params[n + i], gi)).dataSync();
          const got = tf.gather(a.phi[i], t).dataSync();
          want.forEach((w, j) => expect(got[j]).toBeCloseTo(w, 5));
        });
      }
    });
  });
});
