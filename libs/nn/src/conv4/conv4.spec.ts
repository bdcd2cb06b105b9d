import { initBackend } from '../backend';
import { crossEntropyPerTask } from '../losses';
import { tf, type Tensor } from '../tf';
import { Conv4, conv4Config, conv4Plugin } from './conv4';

beforeAll(async () => {
  await initBackend('wasm');
});

const params = (model: Conv4, seed: number) => model.init(seed).map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));
const maxAbsDiff = (a: Tensor, b: Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

describe('conv4', () => {
  it('has the conv-4 shapes: 28x28x1 -> 64 features -> 5 logits; 84x84x3 -> 1600 features', () => {
    const omniglot = new Conv4(conv4Config.parse({}));
    expect(omniglot.embeddingShape).toEqual([64]);
    expect(omniglot.spec.map((p) => p.shape)).toEqual([
      [9, 64], [64], [64], [576, 64], [64], [64], [576, 64], [64], [64], [576, 64], [64], [64], [64, 5], [5],
    ]);
    const mini = new Conv4(conv4Config.parse({ inputShape: [84, 84, 3], ways: 5, normalisation: 'none', filters: 32 }));
    expect(mini.embeddingShape).toEqual([5 * 5 * 32]);
    expect(mini.spec.map((p) => p.name).slice(0, 2)).toEqual(['block0/conv/kernel', 'block0/conv/bias']);
    // Every parameter is at most rank 2 (tileTasks adds a task axis; tfjs's Tile gradient stops at rank 4).
    expect(Math.max(...omniglot.spec.map((p) => p.shape.length))).toBeLessThanOrEqual(2);
    tf.tidy(() => {
      const y = omniglot.forward(params(omniglot, 1), tf.randomUniform([3, 28, 28, 1]));
      expect(y.shape).toEqual([3, 5]);
    });
  });

  it('initialises deterministically: Glorot kernels, unit scales, zero offsets', () => {
    const model = new Conv4(conv4Config.parse({ filters: 8 }));
    const a = model.init(4);
    expect(model.init(4)).toEqual(a);
    expect(model.init(5)[0]).not.toEqual(a[0]);
    expect(Array.from(a[1]).every((v) => v === 1)).toBe(true);
    expect(Array.from(a[2]).every((v) => v === 0)).toBe(true);
    const limit = Math.sqrt(6 / (9 + 9 * 8));
    expect(Math.max(...Array.from(a[0]).map(Math.abs))).toBeLessThanOrEqual(limit);
  });

  it('forwardPerTask equals forward on each task, and embed normalises each group with its own statistics', () => {
    tf.tidy(() => {
      const model = new Conv4(conv4Config.parse({ inputShape: [16, 16, 1], filters: 4, ways: 3 }));
      const thetas = [params(model, 1), params(model, 2)];
      const x = tf.randomUniform([2, 5, 16, 16, 1], 0, 1, 'float32', 3);
      const perTask = model.forwardPerTask(model.spec.map((_, i) => tf.stack([thetas[0][i], thetas[1][i]])), x);
      expect(perTask.shape).toEqual([2, 5, 3]);
      for (let t = 0; t < 2; t++) {
        const one = model.forward(thetas[t], tf.reshape(tf.slice(x, [t, 0, 0, 0, 0], [1, -1, -1, -1, -1]), [5, 16, 16, 1]));
        expect(maxAbsDiff(tf.reshape(tf.slice(perTask, [t, 0, 0], [1, -1, -1]), [5, 3]), one)).toBeLessThan(1e-5);
      }
      const embedded = model.embed(thetas[0], x);
      expect(embedded.shape).toEqual([2, 5, model.embeddingShape[0]]);
      const [w, b] = thetas[0].slice(model.embeddingParams);
      const logits = tf.add(tf.matMul(tf.reshape(embedded, [10, -1]), w), b);
      const separate = tf.concat([0, 1].map((t) => model.forward(thetas[0], tf.reshape(tf.slice(x, [t, 0, 0, 0, 0], [1, -1, -1, -1, -1]), [5, 16, 16, 1]))));
      expect(maxAbsDiff(logits, separate)).toBeLessThan(1e-5);
    });
  });

  /**
   * The MAML objective on a tiny conv-4 (2 filters, 16x16 inputs: the smallest size with 4
   * poolings): L(theta) = query loss of phi_i = theta - alpha grad L_support_i(theta), whose
   * gradient goes through the inner gradient (second order).
   */
  describe.each(['batch', 'none'] as const)('second order (normalisation %s)', (normalisation) => {
    const model = new Conv4(conv4Config.parse({ inputShape: [16, 16, 1], filters: 2, ways: 3, normalisation }));
    // A larger step without batch norm, whose gradients are smaller: the second-order terms must be visible.
    const alpha = normalisation === 'batch' ? 0.1 : 0.5;
    const objective = (theta: Tensor[], batch: Tensor[], secondOrder = true): Tensor => {
      const [sx, sy, qx, qy] = batch;
      const tiled = theta.map((p) => tf.stack([p, p]));
      const inner = tf.grads((...p: Tensor[]) => tf.sum(crossEntropyPerTask(model.forwardPerTask(p, sx), sy)))(tiled);
      const phi = tiled.map((p, i) => tf.sub(p, tf.mul(alpha, secondOrder ? inner[i] : tf.tensor(inner[i].dataSync(), inner[i].shape))));
      return tf.mean(crossEntropyPerTask(model.forwardPerTask(phi, qx), qy));
    };

    it('matches central finite differences along random directions (and first order does not)', () => {
      tf.tidy(() => {
        const labels = tf.tensor2d([[0, 1, 2, 0, 1, 2], [2, 0, 1, 1, 0, 2]], undefined, 'int32');
        const batch = [tf.randomUniform([2, 6, 16, 16, 1], 0, 1, 'float32', 1), labels, tf.randomUniform([2, 6, 16, 16, 1], 0, 1, 'float32', 2), labels];
        const theta = params(model, 3);
        const grads = tf.grads((...p: Tensor[]) => objective(p, batch))(theta);
        const firstOrder = tf.grads((...p: Tensor[]) => objective(p, batch, false))(theta);
        const value = (p: Tensor[]) => objective(p, batch).dataSync()[0];
        const dot = (g: Tensor[], v: Tensor[]) => g.reduce((s, x, i) => s + tf.sum(tf.mul(x, v[i])).dataSync()[0], 0);
        let usable = 0;
        let firstOrderMiss = 0;
        for (let d = 0; d < 10 && usable < 4; d++) {
          const raw = model.spec.map((p, i) => tf.randomNormal(p.shape as number[], 0, 1, 'float32', 100 * d + i + 1));
          const norm = Math.sqrt(dot(raw, raw));
          const v = raw.map((x) => tf.div(x, norm));
          const fd = (eps: number) => (value(theta.map((t, i) => tf.add(t, tf.mul(eps, v[i])))) - value(theta.map((t, i) => tf.sub(t, tf.mul(eps, v[i]))))) / (2 * eps);
          // ReLU and max-pooling make the objective piecewise smooth: a difference quotient
          // whose step crosses a kink disagrees with the one at a third of the step, and that
          // direction tells nothing. Kinks are dense in a 2-filter net (batch norm standardises
          // every pre-activation), hence small steps; float32 objectives of O(1) then give FD
          // noise of a few 1e-3 at a step of 1e-4.
          const [wide, narrow] = [fd(3e-4), fd(1e-4)];
          if (Math.abs(wide - narrow) > 5e-3 + 0.03 * Math.abs(wide)) continue;
          usable++;
          expect(Math.abs(dot(grads, v) - wide)).toBeLessThan(2e-3 + 0.02 * Math.abs(wide));
          firstOrderMiss = Math.max(firstOrderMiss, Math.abs(dot(firstOrder, v) - wide));
        }
        expect(usable).toBeGreaterThanOrEqual(3);
        // The check can tell second from first order: dropping the second-order terms misses.
        expect(firstOrderMiss).toBeGreaterThan(1e-3);
      });
    });
  });

  it('is a model plugin named conv4 with validated config', () => {
    expect(conv4Plugin.kind).toBe('model');
    expect(conv4Plugin.name).toBe('conv4');
    expect(conv4Plugin.configSchema.safeParse({ filters: 0 }).success).toBe(false);
    expect(conv4Plugin.configSchema.safeParse({ normalisation: 'layer' }).success).toBe(false);
    const m = conv4Plugin.create(conv4Plugin.configSchema.parse({ ways: 20 })) as Conv4;
    expect(m.outputShape).toEqual([20]);
    expect(() => new Conv4(conv4Config.parse({ inputShape: [8, 8, 1] }))).toThrow(/too small/);
  });
});
