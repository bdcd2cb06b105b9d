import { float32 } from '@chameleon/core';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { describeSupervisedSourceContract } from '../supervised/contract';
import { localDataFn } from '../supervised/source';
import { SinusoidSource, sinusoidSourceConfig } from './sinusoid-source';

const family = new SinusoidFamily();
const tasks = (n: number) => sampleTasks(family, { split: 'train', seed: 1, start: 0, count: n });

describeSupervisedSourceContract('sinusoid (in process)', () => localDataFn(new SinusoidSource()), tasks, { input: [1], target: [1] });

describe('sinusoid source', () => {
  const source = new SinusoidSource();

  it('computes y = A sin(x - phase) inside the input range', () => {
    const ts = tasks(5);
    const b = source.sample(ts, { supportSize: 20, querySize: 20, seed: 4 });
    ts.forEach((t, i) => {
      const { amplitude, phase } = t.params as { amplitude: number; phase: number };
      for (let k = 0; k < 20; k++) {
        const x = b.supportX.data[i * 20 + k];
        expect(x).toBeGreaterThanOrEqual(-5);
        expect(x).toBeLessThan(5);
        expect(b.supportY.data[i * 20 + k]).toBeCloseTo(amplitude * Math.sin(x - phase), 5);
      }
    });
  });

  it('uses fixed query inputs when given', () => {
    const grid = float32([3, 1], [-1, 0, 1]);
    const b = source.sample(tasks(2), { supportSize: 2, querySize: 99, seed: 0, queryInputs: grid });
    expect(b.queryX.shape).toEqual([2, 3, 1]);
    expect(Array.from(b.queryX.data)).toEqual([-1, 0, 1, -1, 0, 1]);
  });

  it('names the field at fault for bad input', () => {
    expect(() => source.sample(tasks(1), { supportSize: 2, querySize: 1, seed: 0, queryInputs: float32([2, 2]) })).toThrow(/query_inputs/);
    expect(() => source.sample(tasks(1), { supportSize: 2, querySize: 1, seed: 0, queryInputs: float32([1, 1], [NaN]) })).toThrow(/not finite/);
    const bad = { ...tasks(1)[0], params: { amplitude: 'x', phase: 0 } };
    expect(() => source.sample([bad], { supportSize: 2, querySize: 1, seed: 0 })).toThrow(/tasks\[0\]\.params\.amplitude/);
    const other = { ...tasks(1)[0], family: 'omniglot' };
    expect(() => source.sample([other], { supportSize: 2, querySize: 1, seed: 0 })).toThrow(/tasks\[0\]\.family/);
    expect(() => source.sample(tasks(1), { supportSize: 50_000_000, querySize: 50_000_000, seed: 0 })).toThrow(
      expect.objectContaining({ code: 'RESOURCE_EXHAUSTED' }),
    );
  });

  it('adds noise only when configured', () => {
    const noisy = new SinusoidSource(sinusoidSourceConfig.parse({ noiseStd: 0.5 }));
    const ts = tasks(1);
    const a = noisy.sample(ts, { supportSize: 50, querySize: 0, seed: 1 });
    const b = source.sample(ts, { supportSize: 50, querySize: 0, seed: 1 });
    const diffs = Array.from(a.supportY.data).map((y, i) => y - b.supportY.data[i]);
    const std = Math.sqrt(diffs.reduce((s, d) => s + d * d, 0) / diffs.length);
    expect(std).toBeGreaterThan(0.3);
    expect(std).toBeLessThan(0.7);
  });
});
