import { initBackend, lossPerTask, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { sinusoidBatch } from '../../test-helpers';
import { describeAlgorithmContract, finiteDifferences, withinFd } from '../common/contract';
import { Anil, anilConfig } from './anil';

beforeAll(async () => {
  await initBackend('wasm');
});

const model = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [8, 8], outputSize: 1, activation: 'tanh', init: 0.5 }));
const inner = { steps: 2, learningRate: 0.1 };
const paramsOf = (values: Float32Array[]) => values.map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));

describeAlgorithmContract('anil', () => new Anil());
describeAlgorithmContract('anil (generic path)', () => new Anil(anilConfig.parse({}), { features: false }));

describe('ANIL', () => {
  it('adapts the head only: the adapted body equals theta’s body exactly, the head moves', () => {
    tf.tidy(() => {
      const batch = sinusoidBatch(3, 5, 5, 2);
      const theta = paramsOf(model.init(1));
      for (const alg of [new Anil(), new Anil(anilConfig.parse({}), { features: false })]) {
        const a = alg.adapt({ model, params: theta, supportX: batch.supportX, supportY: batch.supportY, inner, loss: 'mse' });
        const h = alg.headStart(model);
        expect(h).toBe(4);
        for (let i = 0; i < model.spec.length; i++) {
          for (let t = 0; t < 3; t++) {
            const same = Array.from(tf.gather(a.phi[i], t).dataSync()).every((v, j) => v === theta[i].dataSync()[j]);
            expect(same).toBe(i < h);
          }
        }
      }
    });
  });

  it('the fast path (body features with shared weights) equals the generic path', () => {
    tf.tidy(() => {
      const batch = sinusoidBatch(4, 5, 6, 3);
      const theta = paramsOf(model.init(2));
      for (const headLayers of [1, 2, 3]) {
        const input = { model, params: theta, batch, inner, loss: 'mse' as const };
        const fast = new Anil(anilConfig.parse({ headLayers })).metaGradient(input);
        const slow = new Anil(anilConfig.parse({ headLayers }), { features: false }).metaGradient(input);
        expect(fast.metaLoss.dataSync()[0]).toBeCloseTo(slow.metaLoss.dataSync()[0], 5);
        fast.grads.forEach((g, i) => {
          const want = slow.grads[i].dataSync();
          g.dataSync().forEach((v, j) => expect(v).toBeCloseTo(want[j], 4));
        });
        const ws = slow.supportLosses.dataSync();
        fast.supportLosses.dataSync().forEach((v, j) => expect(v).toBeCloseTo(ws[j], 5));
      }
    });
  });

  it.each([
    ['fast', new Anil()],
    ['generic', new Anil(anilConfig.parse({}), { features: false })],
  ])('matches central finite differences of the post-adaptation objective (%s path); the body gets a meta-gradient', (_name, alg) => {
    tf.tidy(() => {
      const batch = sinusoidBatch(3, 5, 5, 4);
      const theta = paramsOf(model.init(11));
      const objective = (p: Tensor[]) =>
        tf.tidy(() => {
          const a = alg.adapt({ model, params: p, supportX: batch.supportX, supportY: batch.supportY, inner, loss: 'mse' });
          return tf.mean(lossPerTask('mse', model.forwardPerTask(a.phi, batch.queryX), batch.queryY)).dataSync()[0];
        });
      const out = alg.metaGradient({ model, params: theta, batch, inner, loss: 'mse' });
      expect(out.metaLoss.dataSync()[0]).toBeCloseTo(objective(theta), 5);
      for (const c of finiteDifferences(model.spec, theta, out.grads, objective)) expect(withinFd(c)).toBe(true);
      // Learned in the outer loop: the body's meta-gradient is not zero.
      for (let i = 0; i < alg.headStart(model); i++) expect(tf.max(tf.abs(out.grads[i])).dataSync()[0]).toBeGreaterThan(1e-4);
      // And the first-order variant misses finite differences by far more.
      const fo = new Anil(anilConfig.parse({ firstOrder: true }), alg.options).metaGradient({ model, params: theta, batch, inner, loss: 'mse' });
      const foChecks = finiteDifferences(model.spec, theta, fo.grads, objective);
      expect(Math.max(...foChecks.map((c) => Math.abs(c.analytic - c.fd)))).toBeGreaterThan(2e-2);
    });
  });
});
