import { initBackend, lossPerTask, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { Maml } from '../maml';
import { sinusoidBatch } from '../../test-helpers';
import { describeAlgorithmContract, finiteDifferences, withinFd } from '../common/contract';
import { Cavia, caviaConfig } from './cavia';

beforeAll(async () => {
  await initBackend('wasm');
});

const model = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [8, 8], outputSize: 1, activation: 'tanh', init: 0.5 }));
const n = model.spec.length;
const inner = { steps: 2, learningRate: 0.5 };

describeAlgorithmContract('cavia', () => new Cavia(), { steps: 2, learningRate: 0.1 });

describe('CAVIA', () => {
  const setup = (seed: number) => {
    const alg = new Cavia();
    const spec = alg.paramSpec(model);
    const params = alg.init(model, seed).map((v, i) => tf.tensor(v, spec[i].shape as number[]));
    return { alg, spec, params };
  };

  it('lays out the meta-parameters as the Mlp’s own plus the context rows of the first layer (the wide Mlp’s init)', () => {
    const alg = new Cavia(caviaConfig.parse({ contextSize: 3 }));
    expect(alg.paramSpec(model).map((p) => [p.name, p.shape])).toEqual([...model.spec.map((p) => [p.name, p.shape]), ['context/layer0/weight', [3, 8]]]);
    const wide = alg.net(model).wide.init(5);
    const mine = alg.init(model, 5);
    expect(Array.from(mine[0])).toEqual(Array.from(wide[0].slice(0, 8)));
    expect(Array.from(mine[n])).toEqual(Array.from(wide[0].slice(8)));
    expect(() => alg.paramSpec({ ...model, architecture: 'conv' } as never)).toThrow(/cavia concatenates its context to an mlp/);
  });

  it('the inner loop changes only the context: phi’s network weights are theta’s exactly, the first bias absorbs c W_c', () => {
    tf.tidy(() => {
      const { alg, params } = setup(1);
      const batch = sinusoidBatch(3, 5, 5, 2);
      const a = alg.adapt({ model, params, supportX: batch.supportX, supportY: batch.supportY, queryX: batch.queryX, queryY: batch.queryY, inner, loss: 'mse' });
      const { context } = alg.adaptContext(alg.net(model), params, batch.supportX, batch.supportY, 'mse', inner.steps, inner.learningRate);
      expect(tf.max(tf.abs(context)).dataSync()[0]).toBeGreaterThan(1e-3);
      for (let i = 0; i < n; i++) {
        for (let t = 0; t < 3; t++) {
          const got = tf.gather(a.phi[i], t).dataSync();
          const want = i === 1 ? tf.add(params[1], tf.matMul(tf.slice(context, [t, 0], [1, -1]), params[n])).dataSync() : params[i].dataSync();
          if (i === 1) want.forEach((w, j) => expect(got[j]).toBeCloseTo(w, 6));
          else expect(Array.from(got)).toEqual(Array.from(want));
        }
      }
      // The folded parameters compute the context network's function with the plain model.
      const plain = lossPerTask('mse', model.forwardPerTask(a.phi, batch.queryX), batch.queryY).dataSync();
      const q = a.queryLosses!.dataSync();
      plain.forEach((v, t) => expect(q[t * 3 + 2]).toBeCloseTo(v, 5));
    });
  });

  it('with a zero context weight it is the plain model at theta, and adaptation cannot move it', () => {
    tf.tidy(() => {
      const { alg, params } = setup(2);
      const batch = sinusoidBatch(2, 5, 5, 3);
      const zeroed = params.map((p, i) => (i === n ? tf.zerosLike(p) : p));
      const a = alg.adapt({ model, params: zeroed, supportX: batch.supportX, supportY: batch.supportY, inner, loss: 'mse' });
      const atTheta = new Maml().adapt({ model, params: params.slice(0, n), supportX: batch.supportX, supportY: batch.supportY, inner: { steps: 0, learningRate: 0 }, loss: 'mse' });
      const s = a.supportLosses.arraySync() as number[][];
      const s0 = atTheta.supportLosses.arraySync() as number[][];
      s.forEach((row, t) => row.forEach((v) => expect(v).toBeCloseTo(s0[t][0], 6)));
    });
  });

  it('matches central finite differences of the post-adaptation objective w.r.t. every network weight', () => {
    tf.tidy(() => {
      const { alg, spec, params } = setup(11);
      const batch = sinusoidBatch(3, 5, 5, 4);
      const net = alg.net(model);
      const objective = (p: Tensor[]) =>
        tf.tidy(() => {
          const { context } = alg.adaptContext(net, p, batch.supportX, batch.supportY, 'mse', inner.steps, inner.learningRate);
          return tf.mean(lossPerTask('mse', net.forward(p, context, batch.queryX), batch.queryY)).dataSync()[0];
        });
      const out = alg.metaGradient({ model, params, batch, inner, loss: 'mse' });
      expect(out.metaLoss.dataSync()[0]).toBeCloseTo(objective(params), 5);
      for (const c of finiteDifferences(spec, params, out.grads, objective)) expect(withinFd(c)).toBe(true);
      // The context rows get a meta-gradient; the first-order variant misses FD by far more.
      expect(tf.max(tf.abs(out.grads[n])).dataSync()[0]).toBeGreaterThan(1e-4);
      const fo = new Cavia(caviaConfig.parse({ firstOrder: true })).metaGradient({ model, params, batch, inner, loss: 'mse' });
      const foChecks = finiteDifferences(spec, params, fo.grads, objective);
      expect(Math.max(...foChecks.map((c) => Math.abs(c.analytic - c.fd)))).toBeGreaterThan(2e-2);
    });
  });
});
