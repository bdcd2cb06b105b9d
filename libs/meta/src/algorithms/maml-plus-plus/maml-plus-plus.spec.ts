import { initBackend, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { metaGradientHost } from '../../host';
import { sinusoidBatch } from '../../test-helpers';
import { Maml } from '../maml';
import { describeAlgorithmContract, finiteDifferences, sinusoidHostBatch, withinFd } from '../common/contract';
import { MamlPlusPlus, mamlPlusPlusConfig } from './maml-plus-plus';
import { firstOrderAt, multiStepLossWeights } from './schedules';

beforeAll(async () => {
  await initBackend('wasm');
});

const model = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [8, 8], outputSize: 1, activation: 'tanh', init: 0.5 }));
const n = model.spec.length;
const make = (c: Record<string, unknown> = {}) => new MamlPlusPlus(mamlPlusPlusConfig.parse(c));

describeAlgorithmContract('maml-plus-plus', () => make({ steps: 2, lslrInit: 0.01 }));

describe('MAML++ schedules', () => {
  it('the multi-step loss weights sum to one and are non-negative at every iteration, for every number of steps', () => {
    for (const steps of [1, 2, 3, 5, 8]) {
      for (const anneal of [1, 7, 100]) {
        for (let it = 0; it <= anneal + 3; it++) {
          const w = multiStepLossWeights(steps, it, anneal);
          expect(w).toHaveLength(steps);
          expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
          expect(Math.min(...w)).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });

  it('start uniform, move toward the last step monotonically, and end on the last step alone', () => {
    expect(multiStepLossWeights(4, 0, 100)).toEqual([0.25, 0.25, 0.25, 0.25]);
    let previous = 0;
    for (let it = 0; it < 100; it++) {
      const w = multiStepLossWeights(4, it, 100);
      expect(w[3]).toBeGreaterThanOrEqual(previous);
      previous = w[3];
      expect(w[0]).toBeGreaterThanOrEqual(0.03 / 4 - 1e-15);
    }
    expect(multiStepLossWeights(4, 100, 100)).toEqual([0, 0, 0, 1]);
    expect(multiStepLossWeights(3, 0, 0)).toEqual([0, 0, 1]);
    expect(firstOrderAt(4, 5)).toBe(true);
    expect(firstOrderAt(5, 5)).toBe(false);
  });
});

describe('MAML++', () => {
  const inner = { steps: 3, learningRate: 0 };

  /** The MSL objective from the adaptation path: sum_s w_s mean_i L_query_i(phi_i^(s)). */
  const objective = (alg: MamlPlusPlus, batch: ReturnType<typeof sinusoidBatch>) => (p: Tensor[]) =>
    tf.tidy(() => {
      const a = alg.adapt({ model, params: p, supportX: batch.supportX, supportY: batch.supportY, queryX: batch.queryX, queryY: batch.queryY, inner, loss: 'mse' });
      const perStep = tf.mean(a.queryLosses!, 0).dataSync();
      return alg.stepWeights(inner.steps).reduce((s, w, k) => s + w * perStep[k + 1], 0);
    });

  it('matches central finite differences of the multi-step loss w.r.t. theta and the learned step sizes', () => {
    tf.tidy(() => {
      const alg = make({ steps: 3, lslrInit: 0.1, iteration: 40, msl: { iterations: 100 } });
      expect(new Set(alg.stepWeights(3)).size).toBe(2); // mid-annealing: not one-hot, not uniform
      const spec = alg.paramSpec(model);
      const batch = sinusoidBatch(3, 5, 5, 4);
      const params = alg.init(model, 11).map((v, i) => tf.tensor(i < n ? v : v.map((x, s) => x * (1 + 0.3 * s)), spec[i].shape as number[]));
      const out = alg.metaGradient({ model, params, batch, inner, loss: 'mse' });
      const f = objective(alg, batch);
      for (const c of finiteDifferences(spec, params, out.grads, f, { seed: 3 })) expect(withinFd(c)).toBe(true);
      const lslrOnly = finiteDifferences(spec, params, out.grads.map((g, i) => (i < n ? tf.zerosLike(g) : g)), (p) => f(p.map((t, i) => (i < n ? params[i] : t))), { seed: 9 });
      for (const c of lslrOnly) expect(withinFd(c)).toBe(true);
      // metaLoss: the mean query loss after the last step.
      const a = alg.adapt({ model, params, supportX: batch.supportX, supportY: batch.supportY, queryX: batch.queryX, queryY: batch.queryY, inner, loss: 'mse' });
      expect(out.metaLoss.dataSync()[0]).toBeCloseTo(tf.mean(tf.slice(a.queryLosses!, [0, 3], [-1, 1])).dataSync()[0], 5);
    });
  });

  it('per-step per-layer step sizes receive gradients (and unused steps none)', () => {
    const alg = make({ steps: 4, lslrInit: 0.05 });
    const r = metaGradientHost(alg, model, alg.init(model, 2), sinusoidHostBatch(5, 10, 10), inner);
    expect(alg.paramSpec(model).slice(n).map((p) => [p.name, p.shape])).toEqual(model.spec.map((p) => [`lslr/${p.name}`, [4]]));
    for (let i = n; i < 2 * n; i++) {
      const g = Array.from(r.grads[i]);
      for (let s = 0; s < 3; s++) expect(Math.abs(g[s])).toBeGreaterThan(0);
      expect(g[3]).toBe(0);
    }
  });

  it('derivative-order annealing: first order before firstOrderUntil (= FOMAML), second order from it on (= MAML)', () => {
    tf.tidy(() => {
      const batch = sinusoidBatch(3, 5, 5, 6);
      const one = { steps: 1, learningRate: 0.1 };
      const theta = model.init(3).map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));
      const withLslr = () => [...theta, ...model.spec.map(() => tf.tensor([0.1]))];
      const at = (iteration: number) => {
        const alg = make({ steps: 1, firstOrderUntil: 10, iteration });
        return alg.metaGradient({ model, params: withLslr(), batch, inner: one, loss: 'mse' }).grads.slice(0, n);
      };
      const fo = new Maml({ firstOrder: true }).metaGradient({ model, params: theta, batch, inner: one, loss: 'mse' }).grads;
      const so = new Maml({ firstOrder: false }, { fused: false }).metaGradient({ model, params: theta, batch, inner: one, loss: 'mse' }).grads;
      const close = (a: Tensor[], b: Tensor[]) => a.every((g, i) => tf.max(tf.abs(tf.sub(g, b[i]))).dataSync()[0] < 1e-5);
      expect(close(at(9), fo)).toBe(true);
      expect(close(at(10), so)).toBe(true);
      expect(close(fo, so)).toBe(false);
    });
  });
});
