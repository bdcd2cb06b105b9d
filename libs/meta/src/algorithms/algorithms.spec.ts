import { initBackend, lossPerTask, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { sgdAdapt } from '../adapt';
import { dot, paramsOf, randomDirection, sinusoidBatch } from '../test-helpers';
import { fusedMamlApplies } from '../fast/mlp-maml';
import type { InnerLoopConfig } from '../types';
import { Maml } from './maml';
import { Reptile } from './reptile';
import { Pretrain } from './pretrain';

beforeAll(async () => {
  await initBackend('wasm');
});

// tanh makes the objective smooth, so central differences are meaningful (no ReLU kinks).
const model = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [8, 8], outputSize: 1, activation: 'tanh', init: 0.5 }));
const inner = { steps: 2, learningRate: 0.05 };

/** Mean query loss after adaptation: the MAML objective, computed without any outer gradient. */
function objective(theta: Tensor[], batch: ReturnType<typeof sinusoidBatch>, innerLoop: InnerLoopConfig = inner): number {
  return tf.tidy(() => {
    const a = sgdAdapt({ model, params: theta, supportX: batch.supportX, supportY: batch.supportY, inner: innerLoop, loss: 'mse' });
    return tf.mean(lossPerTask('mse', model.forwardPerTask(a.phi, batch.queryX), batch.queryY)).dataSync()[0];
  });
}

// One inner step takes the fused path (../fast), two take the generic one; `fused: false`
// forces the generic path on one step too. All must match finite differences.
const paths: Array<[string, Maml, InnerLoopConfig, boolean]> = [
  ['fused, one inner step', new Maml(), { steps: 1, learningRate: 0.1 }, true],
  ['generic, one inner step', new Maml({ firstOrder: false }, { fused: false }), { steps: 1, learningRate: 0.1 }, false],
  ['generic, two inner steps', new Maml(), inner, false],
];

describe.each(paths)('MAML (second order), %s', (_name, maml, innerLoop, fused) => {
  it('matches central finite differences of the post-adaptation objective along random directions', () => {
    tf.tidy(() => {
      const batch = sinusoidBatch(3, 5, 5, 4);
      const theta = paramsOf(model, model.init(11));
      const input = { model, params: theta, batch, inner: innerLoop, loss: 'mse' as const };
      expect(maml.options.fused !== false && fusedMamlApplies(input)).toBe(fused);
      const out = maml.metaGradient(input);
      const fo = new Maml({ firstOrder: true }).metaGradient(input);
      // float32: objective values are O(1) with ~1e-7 relative rounding; eps = 1e-2 keeps the
      // rounding error of the difference near 1e-5 and the O(eps^2) truncation error near 1e-5,
      // so 2e-3 absolute (plus 1% relative) separates correct from wrong by orders of magnitude.
      const eps = 1e-2;
      let secondOrderMatters = 0;
      for (let d = 0; d < 5; d++) {
        const v = randomDirection(model, d + 1);
        const plus = objective(theta.map((t, i) => tf.add(t, tf.mul(eps, v[i]))), batch, innerLoop);
        const minus = objective(theta.map((t, i) => tf.sub(t, tf.mul(eps, v[i]))), batch, innerLoop);
        const fd = (plus - minus) / (2 * eps);
        const analytic = dot(out.grads, v);
        expect(Math.abs(analytic - fd)).toBeLessThan(2e-3 + 0.01 * Math.abs(fd));
        secondOrderMatters = Math.max(secondOrderMatters, Math.abs(dot(fo.grads, v) - fd));
      }
      // The test can tell first- from second-order: the first-order gradient misses FD by far more.
      expect(secondOrderMatters).toBeGreaterThan(2e-2);
    });
  });

  it('reports the meta-loss and the support-loss trace [T, steps + 1]', () => {
    tf.tidy(() => {
      const batch = sinusoidBatch(4, 5, 5, 2);
      const theta = paramsOf(model, model.init(1));
      const out = maml.metaGradient({ model, params: theta, batch, inner: innerLoop, loss: 'mse' });
      expect(out.supportLosses.shape).toEqual([4, innerLoop.steps + 1]);
      expect(out.metaLoss.dataSync()[0]).toBeCloseTo(objective(theta, batch, innerLoop), 4);
      const adapted = sgdAdapt({ model, params: theta, supportX: batch.supportX, supportY: batch.supportY, inner: innerLoop, loss: 'mse' });
      const want = adapted.supportLosses.dataSync();
      out.supportLosses.dataSync().forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    });
  });
});

describe('first-order MAML', () => {
  // One inner step takes the fused path, two the generic one.
  it.each([1, 2])('equals the hand-built first-order update: mean over tasks of the query gradient at phi_i (%i inner steps)', (steps) => {
    tf.tidy(() => {
      const T = 3;
      const inner = { steps, learningRate: 0.05 };
      const batch = sinusoidBatch(T, 5, 7, 9);
      const theta = paramsOf(model, model.init(5));
      const out = new Maml({ firstOrder: true }).metaGradient({ model, params: theta, batch, inner, loss: 'mse' });
      // By hand, one task at a time, with the unbatched forward pass.
      const sum = theta.map((t) => tf.zerosLike(t));
      for (let t = 0; t < T; t++) {
        const xs = tf.gather(batch.supportX, t);
        const ys = tf.gather(batch.supportY, t);
        let phi: Tensor[] = theta;
        for (let s = 0; s < inner.steps; s++) {
          const g = tf.grads((...p: Tensor[]) => tf.mean(tf.squaredDifference(model.forward(p, xs), ys)))(phi);
          phi = phi.map((p, i) => tf.sub(p, tf.mul(inner.learningRate, g[i])));
        }
        const gq = tf.grads((...p: Tensor[]) => tf.mean(tf.squaredDifference(model.forward(p, tf.gather(batch.queryX, t)), tf.gather(batch.queryY, t))))(phi);
        gq.forEach((g, i) => (sum[i] = tf.add(sum[i], g)));
      }
      out.grads.forEach((g, i) => {
        const expected = tf.div(sum[i], T).dataSync();
        const got = g.dataSync();
        expected.forEach((e, j) => expect(got[j]).toBeCloseTo(e, 5));
      });
    });
  });
});

describe('Reptile', () => {
  it('returns theta minus the mean adapted weights, and a step along it moves theta toward them', () => {
    tf.tidy(() => {
      const batch = sinusoidBatch(4, 5, 5, 3);
      const theta = paramsOf(model, model.init(2));
      const reptile = new Reptile({ useQueryInInnerLoop: false });
      const out = reptile.metaGradient({ model, params: theta, batch, inner: { steps: 5, learningRate: 0.02 }, loss: 'mse' });
      const adapted = sgdAdapt({ model, params: theta, supportX: batch.supportX, supportY: batch.supportY, inner: { steps: 5, learningRate: 0.02 }, loss: 'mse' });
      const target = adapted.phi.map((p) => tf.mean(p, 0));
      const dist = (ps: Tensor[]) => Math.sqrt(ps.reduce((s, p, i) => s + tf.sum(tf.square(tf.sub(p, target[i]))).dataSync()[0], 0));
      out.grads.forEach((g, i) => {
        const expected = tf.sub(theta[i], target[i]).dataSync();
        g.dataSync().forEach((v, j) => expect(v).toBeCloseTo(expected[j], 6));
      });
      const before = dist(theta);
      const after = dist(theta.map((p, i) => tf.sub(p, tf.mul(0.5, out.grads[i]))));
      expect(before).toBeGreaterThan(0);
      expect(after).toBeCloseTo(before / 2, 5);
    });
  });
});

describe('adaptation', () => {
  it('lowers the support loss of every task at every step (small step size)', () => {
    tf.tidy(() => {
      const relu = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [40, 40], outputSize: 1 }));
      const batch = sinusoidBatch(10, 10, 10, 6);
      const theta = paramsOf(relu, relu.init(3));
      const a = sgdAdapt({ model: relu, params: theta, supportX: batch.supportX, supportY: batch.supportY, inner: { steps: 5, learningRate: 0.005 }, loss: 'mse' });
      const losses = a.supportLosses.arraySync() as number[][];
      for (const row of losses) for (let s = 1; s < row.length; s++) expect(row[s]).toBeLessThan(row[s - 1]);
    });
  });
});

describe('pretrain baseline', () => {
  it('is the gradient of the joint loss over support and query at theta', () => {
    tf.tidy(() => {
      const batch = sinusoidBatch(3, 4, 6, 8);
      const theta = paramsOf(model, model.init(4));
      const out = new Pretrain().metaGradient({ model, params: theta, batch, inner, loss: 'mse' });
      const x = tf.concat([batch.supportX, batch.queryX], 1);
      const y = tf.concat([batch.supportY, batch.queryY], 1);
      const tiled = theta.map((p) => tf.tile(tf.expandDims(p, 0), [3, ...p.shape.map(() => 1)]));
      const g = tf.grads((...p: Tensor[]) => tf.mean(lossPerTask('mse', model.forwardPerTask(p, x), y)))(tiled);
      out.grads.forEach((gr, i) => {
        const expected = tf.sum(g[i], 0).dataSync();
        gr.dataSync().forEach((v, j) => expect(v).toBeCloseTo(expected[j], 5));
      });
    });
  });
});
