import { float32 } from '@chameleon/core';
import { describeSupervisedSourceContract, localDataFn, type SupervisedSource } from '@chameleon/envs';
import { PluginRegistry, loadPluginModule } from '@chameleon/plugins';
import { describeTaskSourceContract, localTaskSource, sampleTasks, type SplitName, type TaskFamily } from '@chameleon/tasks';
import { LinearRegressionFamily, LinearRegressionSource, linearRegressionConfig, linearRegressionSourceConfig } from './index';

const family = new LinearRegressionFamily();
const tasks = (n: number, split: SplitName = 'train') => sampleTasks(family, { split, seed: 1, start: 0, count: n });
const line = (t: { params: Record<string, unknown> }) => t.params as { slope: number; intercept: number };

describeTaskSourceContract('linear-regression (in process)', () => localTaskSource(family), ['train', 'test']);
describeSupervisedSourceContract('linear-regression (in process)', () => localDataFn(new LinearRegressionSource()), tasks, { input: [1], target: [1] });

describe('linear-regression family', () => {
  it('draws w in [-2, 2] and b in [-1, 1], spread across them', () => {
    const ts = tasks(2000);
    const w = ts.map((t) => line(t).slope);
    const b = ts.map((t) => line(t).intercept);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...w)).toBeLessThanOrEqual(2);
    expect(Math.min(...b)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...b)).toBeLessThanOrEqual(1);
    // Uniform and centred: the mean of 2000 draws of U[-2, 2] has std 1.15 / sqrt(2000) = 0.026.
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    expect(Math.abs(mean(w))).toBeLessThan(0.1);
    expect(Math.abs(mean(b))).toBeLessThan(0.05);
    // E[w^2] = 4/3 for U[-2, 2]: checks the width, not just the centre.
    expect(mean(w.map((x) => x * x))).toBeCloseTo(4 / 3, 1);
  });

  it('uses the configured ranges', () => {
    const fixed = new LinearRegressionFamily(linearRegressionConfig.parse({ slope: [0.5, 0.5], intercept: [-0.25, -0.25] }));
    const [t] = sampleTasks(fixed, { split: 'test', seed: 0, start: 0, count: 1 });
    expect(t.params).toEqual({ slope: 0.5, intercept: -0.25 });
  });

  it('rejects an inverted range and unknown keys', () => {
    expect(linearRegressionConfig.safeParse({ slope: [2, -2] }).success).toBe(false);
    expect(linearRegressionConfig.safeParse({ noise: 1 }).success).toBe(false);
  });
});

describe('linear-regression source', () => {
  const source = new LinearRegressionSource();

  it('computes y = w x + b with x in [-3, 3)', () => {
    const ts = tasks(5);
    const batch = source.sample(ts, { supportSize: 20, querySize: 5, seed: 4 });
    ts.forEach((t, i) => {
      const { slope, intercept } = line(t);
      for (let k = 0; k < 20; k++) {
        const x = batch.supportX.data[i * 20 + k];
        expect(x).toBeGreaterThanOrEqual(-3);
        expect(x).toBeLessThan(3);
        expect(batch.supportY.data[i * 20 + k]).toBeCloseTo(slope * x + intercept, 5);
      }
    });
  });

  it("holds each task's line: least squares on its support set recovers w and b", () => {
    const ts = tasks(3);
    const K = 4;
    const batch = source.sample(ts, { supportSize: K, querySize: 0, seed: 9 });
    ts.forEach((t, i) => {
      const xs = Array.from(batch.supportX.data.slice(i * K, (i + 1) * K));
      const ys = Array.from(batch.supportY.data.slice(i * K, (i + 1) * K));
      const mx = xs.reduce((s, x) => s + x, 0) / K;
      const my = ys.reduce((s, y) => s + y, 0) / K;
      const w = xs.reduce((s, x, k) => s + (x - mx) * (ys[k] - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
      expect(w).toBeCloseTo(line(t).slope, 4);
      expect(my - w * mx).toBeCloseTo(line(t).intercept, 4);
    });
  });

  it('uses fixed query inputs when given', () => {
    const grid = float32([3, 1], [-3, 0, 3]);
    const batch = source.sample(tasks(2), { supportSize: 2, querySize: 99, seed: 0, queryInputs: grid });
    expect(batch.queryX.shape).toEqual([2, 3, 1]);
    expect(Array.from(batch.queryY.data)).toEqual(tasks(2).flatMap((t) => [-3, 0, 3].map((x) => Math.fround(line(t).slope * x + line(t).intercept))));
  });

  it('adds noise of the configured standard deviation', () => {
    const noisy = new LinearRegressionSource(linearRegressionSourceConfig.parse({ noiseStd: 0.5 }));
    const ts = tasks(1);
    const a = noisy.sample(ts, { supportSize: 400, querySize: 0, seed: 1 });
    const b = source.sample(ts, { supportSize: 400, querySize: 0, seed: 1 });
    const diffs = Array.from(a.supportY.data).map((y, i) => y - b.supportY.data[i]);
    const std = Math.sqrt(diffs.reduce((s, d) => s + d * d, 0) / diffs.length);
    expect(std).toBeGreaterThan(0.4);
    expect(std).toBeLessThan(0.6);
  });

  it('names the field at fault for a bad task', () => {
    const bad = { ...tasks(1)[0], params: { slope: 1, intercept: null } };
    expect(() => source.sample([bad], { supportSize: 2, querySize: 1, seed: 0 })).toThrow(/tasks\[0\]\.params\.intercept/);
    const other = { ...tasks(1)[0], family: 'sinusoid' };
    expect(() => source.sample([other], { supportSize: 2, querySize: 1, seed: 0 })).toThrow(/tasks\[0\]\.family/);
  });
});

describe('linear-regression plugin module', () => {
  it('registers the family and its environment through the loader, as a run config does', () => {
    const registry = new PluginRegistry();
    const manifests = loadPluginModule(registry, __dirname);
    expect(manifests.map((m) => `${m.kind}:${m.name}`)).toEqual(['task-family:linear-regression', 'environment:linear-regression']);
    expect(registry.create<TaskFamily>('task-family', 'linear-regression', {}).name).toBe('linear-regression');
    expect(registry.create<SupervisedSource>('environment', 'linear-regression', { noiseStd: 0.1 }).inputShape).toEqual([1]);
    expect(() => registry.create('environment', 'linear-regression', { inputRange: [3, -3] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
