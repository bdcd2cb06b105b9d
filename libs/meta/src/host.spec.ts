import { float32 } from '@chameleon/core';
import { SinusoidSource } from '@chameleon/envs';
import { initBackend, Mlp, mlpConfig, tf } from '@chameleon/nn';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { Maml } from './algorithms/maml';
import { adaptHost, metaGradientHost, predictHost } from './host';
import { initialState, optimiserConfig, optimiserStep } from './optim/optimiser';

beforeAll(async () => {
  await initBackend('wasm');
});

const model = new Mlp(mlpConfig.parse({}));
const family = new SinusoidFamily();
const source = new SinusoidSource();
const batchAt = (i: number, T = 5) =>
  source.sample(sampleTasks(family, { split: 'train', seed: 1, start: i * T, count: T }), { supportSize: 10, querySize: 10, seed: i });

describe('host entry points', () => {
  it('leave no tensor behind: numTensors is flat across 1,000 meta-iterations', () => {
    const maml = new Maml();
    const cfg = optimiserConfig.parse({});
    const names = model.spec.map((p) => p.name);
    let params = model.init(0);
    let state = initialState(cfg, names, params.map((p) => p.length));
    const step = (i: number) => {
      const r = metaGradientHost(maml, model, params, batchAt(i), { steps: 1, learningRate: 0.01 });
      ({ params, state } = optimiserStep(cfg, names, params, r.grads, state));
      return r.metaLoss;
    };
    for (let i = 0; i < 10; i++) step(i); // warm-up: backends allocate lazily
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let i = 10; i < 1000; i++) losses.push(step(i));
    expect(tf.memory().numTensors).toBe(before);
    // And it learned something on the way (sanity, not a benchmark).
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(losses.slice(-100))).toBeLessThan(mean(losses.slice(0, 100)));
  });

  it('adaptHost and predictHost free their tensors too', () => {
    const params = model.init(1);
    const b = batchAt(0, 3);
    const grid = float32([3, 7, 1], Array.from({ length: 21 }, (_, i) => i / 4 - 2.5));
    adaptHost(new Maml(), model, params, { x: b.supportX, y: b.supportY }, { steps: 2, learningRate: 0.01 }, { query: { x: b.queryX, y: b.queryY }, predictX: grid, returnParams: true });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const r = adaptHost(new Maml(), model, params, { x: b.supportX, y: b.supportY }, { steps: 2, learningRate: 0.01 }, { query: { x: b.queryX, y: b.queryY }, predictX: grid, returnParams: true });
      expect(r.supportLosses.shape).toEqual([3, 3]);
      expect(r.queryLosses!.shape).toEqual([3, 3]);
      expect(r.predictions!.shape).toEqual([3, 3, 7, 1]);
      expect(r.phi![2].length).toBe(3 * 40 * 40);
      predictHost(model, params, float32([4, 1], [0, 1, 2, 3]), false);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the field at fault for bad input, and leaks nothing when it refuses', () => {
    const params = model.init(1);
    const b = batchAt(0, 2);
    const before = tf.memory().numTensors;
    const inner = { steps: 1, learningRate: 0.01 };
    const maml = new Maml();
    expect(() => metaGradientHost(maml, model, params.slice(1), b, inner)).toThrow(/params: expected 6 tensors/);
    const wrong = params.map((p, i) => (i === 3 ? new Float32Array(41) : p));
    expect(() => metaGradientHost(maml, model, wrong, b, inner)).toThrow(/params\[3\]: layer1\/bias must have shape \[40\]/);
    const nan = params.map((p, i) => (i === 0 ? Float32Array.from(p, (v, j) => (j === 2 ? NaN : v)) : p));
    expect(() => metaGradientHost(maml, model, nan, b, inner)).toThrow(/params\[0\].*not finite/);
    expect(() => metaGradientHost(maml, model, params, { ...b, supportX: float32([2, 10, 2]) }, inner)).toThrow(/support_inputs: must have shape \[T, N, 1\]/);
    expect(() => metaGradientHost(maml, model, params, { ...b, queryY: float32([2, 9, 1]) }, inner)).toThrow(/query_targets/);
    expect(() => metaGradientHost(maml, model, params, b, { steps: -1, learningRate: 0.1 })).toThrow(/inner.steps/);
    expect(() => metaGradientHost(maml, model, params, b, { steps: 1e6, learningRate: 0.1 })).toThrow(expect.objectContaining({ code: 'RESOURCE_EXHAUSTED' }));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('optimiser', () => {
  it('Adam follows the bias-corrected update exactly', () => {
    const cfg = optimiserConfig.parse({ learningRate: 0.1 });
    let params: Float32Array[] = [Float32Array.from([1, -2])];
    let state = initialState(cfg, ['w'], [2]);
    const g = [Float32Array.from([0.5, -4])];
    ({ params, state } = optimiserStep(cfg, ['w'], params, g, state));
    // Step 1: m_hat = g, v_hat = g^2, so the update is lr * sign(g) (up to epsilon).
    expect(params[0][0]).toBeCloseTo(0.9, 6);
    expect(params[0][1]).toBeCloseTo(-1.9, 6);
    ({ params, state } = optimiserStep(cfg, ['w'], params, [Float32Array.from([0.5, 0])], state));
    // m after step 2 for the second coordinate: 0.9 * (0.1 * -4) + 0.1 * 0.
    expect(state.step).toBe(2);
    expect(state.slots['m/w'][1]).toBeCloseTo(-0.36, 6);
  });

  it('SGD with clipping scales the gradient to the norm bound', () => {
    const cfg = optimiserConfig.parse({ name: 'sgd', learningRate: 1, clipNorm: 1 });
    const r = optimiserStep(cfg, ['w'], [Float32Array.from([0, 0])], [Float32Array.from([3, 4])], initialState(cfg, ['w'], [2]));
    expect(Array.from(r.params[0])).toEqual([expect.closeTo(-0.6, 6), expect.closeTo(-0.8, 6)]);
    expect(r.gradNorm).toBeCloseTo(5, 6);
  });

  it('refuses a non-finite gradient without touching the parameters', () => {
    const cfg = optimiserConfig.parse({});
    const p = [Float32Array.from([1])];
    expect(() => optimiserStep(cfg, ['w'], p, [Float32Array.from([NaN])], initialState(cfg, ['w'], [1]))).toThrow(
      expect.objectContaining({ code: 'FAILED_PRECONDITION' }),
    );
    expect(p[0][0]).toBe(1);
  });
});
