import { initBackend } from './backend';
import { tanh2 } from './activations';
import { Mlp, mlpConfig } from './mlp';
import { msePerTask, crossEntropyPerTask, accuracyPerTask } from './losses';
import { tf } from './tf';

beforeAll(async () => {
  await initBackend('wasm');
});

const toTensors = (m: Mlp, values: Float32Array[]) => values.map((v, i) => tf.tensor(v, m.spec[i].shape as number[]));

describe('Mlp', () => {
  const model = new Mlp(mlpConfig.parse({ inputSize: 2, hidden: [5, 4], outputSize: 3 }));

  it('lists weights and biases in layer order', () => {
    expect(model.spec.map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual([
      'layer0/weight:2x5', 'layer0/bias:5', 'layer1/weight:5x4', 'layer1/bias:4', 'layer2/weight:4x3', 'layer2/bias:3',
    ]);
  });

  it('initialises deterministically in the seed, biases at zero', () => {
    const a = model.init(1);
    const b = model.init(1);
    const c = model.init(2);
    expect(a.map((v) => Array.from(v))).toEqual(b.map((v) => Array.from(v)));
    expect(Array.from(a[0])).not.toEqual(Array.from(c[0]));
    expect(Array.from(a[1]).every((v) => v === 0)).toBe(true);
  });

  it('forwardPerTask with tiled parameters equals forward on each task', () => {
    tf.tidy(() => {
      const theta = toTensors(model, model.init(3));
      const x = tf.randomNormal([4, 6, 2], 0, 1, 'float32', 7);
      const tiled = theta.map((p) => tf.tile(tf.expandDims(p, 0), [4, ...p.shape.map(() => 1)]));
      const batched = model.forwardPerTask(tiled, x).arraySync() as number[][][];
      for (let t = 0; t < 4; t++) {
        const single = model.forward(theta, tf.gather(x, t)).arraySync() as number[][];
        single.forEach((row, i) => row.forEach((v, j) => expect(batched[t][i][j]).toBeCloseTo(v, 5)));
      }
    });
  });
});

describe('twice-differentiable tanh', () => {
  it('has the exact first and second derivatives', () => {
    const xs = [-1.3, -0.2, 0, 0.7, 2.1];
    const d1 = tf.grad((x: tf.Tensor) => tf.sum(tanh2(x)));
    const d2 = tf.grad((x: tf.Tensor) => tf.sum(d1(x)));
    const g1 = d1(tf.tensor1d(xs)).arraySync() as number[];
    const g2 = d2(tf.tensor1d(xs)).arraySync() as number[];
    xs.forEach((x, i) => {
      const t = Math.tanh(x);
      expect(g1[i]).toBeCloseTo(1 - t * t, 5);
      expect(g2[i]).toBeCloseTo(-2 * t * (1 - t * t), 5);
    });
  });
});

describe('losses', () => {
  it('computes MSE per task', () => {
    const pred = tf.tensor3d([[[1], [2]], [[0], [0]]]);
    const target = tf.tensor3d([[[1], [4]], [[1], [-1]]]);
    expect(Array.from(msePerTask(pred, target).dataSync())).toEqual([2, 1]);
  });

  it('computes cross-entropy and accuracy per task', () => {
    const logits = tf.tensor3d([[[10, 0], [0, 10]], [[0, 0], [0, 0]]]);
    const labels = tf.tensor2d([[0, 1], [0, 1]], [2, 2], 'int32');
    const ce = Array.from(crossEntropyPerTask(logits, labels).dataSync());
    expect(ce[0]).toBeCloseTo(Math.log(1 + Math.exp(-10)), 5);
    expect(ce[1]).toBeCloseTo(Math.log(2), 5);
    expect(Array.from(accuracyPerTask(logits, labels).dataSync())[0]).toBe(1);
  });
});
