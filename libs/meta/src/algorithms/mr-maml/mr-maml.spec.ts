import { initBackend, lossPerTask, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { innerStep } from '../../adapt';
import { sinusoidBatch } from '../../test-helpers';
import { Maml } from '../maml';
import { describeAlgorithmContract, finiteDifferences, withinFd } from '../common/contract';
import { gaussianKl, MrMaml, mrMamlConfig } from './mr-maml';

beforeAll(async () => {
  await initBackend('wasm');
});

const model = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [8, 8], outputSize: 1, activation: 'tanh', init: 0.5 }));
const n = model.spec.length;
const inner = { steps: 2, learningRate: 0.1 };
const make = (c: Record<string, unknown> = {}) => new MrMaml(mrMamlConfig.parse({ iteration: 3, ...c }));
const paramsOf = (alg: MrMaml, seed: number, logStd = -1.5) => {
  const spec = alg.paramSpec(model);
  return alg.init(model, seed).map((v, i) => tf.tensor(i < n ? v : v.fill(logStd), spec[i].shape as number[]));
};

describeAlgorithmContract('mr-maml', () => new MrMaml(), undefined, { stochastic: true });
describeAlgorithmContract('mr-maml (first layer stochastic)', () => make({ stochastic: ['layer0/'] }), undefined, { stochastic: true });

describe('MR-MAML', () => {
  it('the KL term is exact for a known Gaussian', () => {
    tf.tidy(() => {
      // 0.5 (4 + 0.25 - 1) - log 2  +  0.5 (0.25 + 0.25 - 1) - log 0.5  +  0 (the prior itself)
      const kl = gaussianKl([tf.tensor([0.5, -0.5]), tf.tensor([0])], [tf.tensor([Math.log(2), Math.log(0.5)]), tf.tensor([0])]);
      expect(kl.dataSync()[0]).toBeCloseTo(0.5 * 3.25 - Math.log(2) + 0.5 * -0.5 + Math.log(2), 6);
    });
  });

  it('names and shapes the log-stds after the stochastic parameters', () => {
    expect(make().paramSpec(model).slice(n).map((p) => p.name)).toEqual(model.spec.map((p) => `logstd/${p.name}`));
    expect(make({ stochastic: ['layer0/'] }).paramSpec(model).slice(n).map((p) => [p.name, p.shape])).toEqual([
      ['logstd/layer0/weight', [1, 8]],
      ['logstd/layer0/bias', [8]],
    ]);
    expect(() => make({ stochastic: ['conv/'] }).paramSpec(model)).toThrow(/matches no parameter/);
  });

  it('the KL gradient reaches the log-std: grads(beta) - grads(0) = beta dKL = beta (sigma^2 - 1) and beta mu, exactly', () => {
    tf.tidy(() => {
      const beta = 0.01;
      const batch = sinusoidBatch(3, 5, 5, 4);
      const params = paramsOf(make(), 1);
      const eps = make().noise(model, 3);
      const input = { model, params, batch, inner, loss: 'mse' as const };
      const withKl = make({ beta }).metaGradientWithNoise(input, eps).grads;
      const without = make({ beta: 0 }).metaGradientWithNoise(input, eps).grads;
      withKl.forEach((g, i) => {
        const want = (i < n ? tf.mul(beta, params[i]) : tf.mul(beta, tf.sub(tf.exp(tf.mul(2, params[i])), 1))).dataSync();
        const got = tf.sub(g, without[i]).dataSync();
        want.forEach((w, j) => expect(got[j]).toBeCloseTo(w, 6));
      });
      expect(Math.abs(withKl[n].dataSync()[0])).toBeGreaterThan(1e-3);
    });
  });

  it('with beta = 0 it is MAML on the sampled weights: d/dmu is the mean of per-task MAML gradients at mu + sigma eps_t, d/dlogstd that times sigma eps_t', () => {
    tf.tidy(() => {
      const T = 3;
      const batch = sinusoidBatch(T, 5, 5, 6);
      const alg = make({ beta: 0 });
      const params = paramsOf(alg, 2);
      const eps = alg.noise(model, T);
      const out = alg.metaGradientWithNoise({ model, params, batch, inner, loss: 'mse' }, eps);
      const sampled = alg.sample(model, params, eps);
      const maml = new Maml({ firstOrder: false }, { fused: false });
      const wantMu = model.spec.map((p) => tf.zeros(p.shape as number[]));
      const wantLogStd = model.spec.map((p) => tf.zeros(p.shape as number[]));
      for (let t = 0; t < T; t++) {
        const one = (x: Tensor) => tf.slice(x, [t], [1]);
        const theta = sampled.map((p) => tf.squeeze(one(p), [0]));
        const g = maml.metaGradient({ model, params: theta, batch: { supportX: one(batch.supportX), supportY: one(batch.supportY), queryX: one(batch.queryX), queryY: one(batch.queryY) }, inner, loss: 'mse' }).grads;
        g.forEach((gi, i) => {
          wantMu[i] = tf.add(wantMu[i], tf.div(gi, T));
          wantLogStd[i] = tf.add(wantLogStd[i], tf.div(tf.mul(gi, tf.mul(tf.exp(params[n + i]), tf.squeeze(one(eps[i]), [0]))), T));
        });
      }
      [...wantMu, ...wantLogStd].forEach((w, i) => {
        const got = out.grads[i].dataSync();
        w.dataSync().forEach((v, j) => expect(got[j]).toBeCloseTo(v, 5));
      });
    });
  });

  it('matches central finite differences w.r.t. the means and log-stds (noise held fixed)', () => {
    tf.tidy(() => {
      const T = 3;
      const alg = make({ beta: 0.01 });
      const spec = alg.paramSpec(model);
      const batch = sinusoidBatch(T, 5, 5, 4);
      const params = paramsOf(alg, 11);
      const eps = alg.noise(model, T);
      const objective = (p: Tensor[]) =>
        tf.tidy(() => {
          let phi = alg.sample(model, p, eps);
          for (let s = 0; s < inner.steps; s++) phi = innerStep(model, phi, batch.supportX, batch.supportY, 'mse', inner.learningRate).phi;
          const q = tf.mean(lossPerTask('mse', model.forwardPerTask(phi, batch.queryX), batch.queryY));
          return tf.add(q, tf.mul(0.01, gaussianKl(p.slice(0, n), p.slice(n)))).dataSync()[0];
        });
      const out = alg.metaGradientWithNoise({ model, params, batch, inner, loss: 'mse' }, eps);
      for (const c of finiteDifferences(spec, params, out.grads, objective)) expect(withinFd(c)).toBe(true);
    });
  });

  it('draws the same noise for the same iteration and new noise on every call without one', () => {
    tf.tidy(() => {
      const a = make({ iteration: 7 }).noise(model, 2)[0].dataSync();
      const b = make({ iteration: 7 }).noise(model, 2)[0].dataSync();
      expect(Array.from(a)).toEqual(Array.from(b));
      const free = new MrMaml();
      expect(Array.from(free.noise(model, 2)[0].dataSync())).not.toEqual(Array.from(free.noise(model, 2)[0].dataSync()));
    });
  });
});
