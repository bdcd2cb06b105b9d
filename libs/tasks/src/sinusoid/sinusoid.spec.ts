import { sampleTasks, localTaskSource } from '../sampler';
import { describeTaskSourceContract } from '../contract';
import { SinusoidFamily, sinusoidConfig, sinusoidFamilyPlugin } from './sinusoid';

describeTaskSourceContract('sinusoid (in process)', () => localTaskSource(new SinusoidFamily()));

describe('sinusoid family', () => {
  it('draws amplitude and phase inside the configured ranges, spread across them', () => {
    const tasks = sampleTasks(new SinusoidFamily(), { split: 'train', seed: 1, start: 0, count: 2000 });
    const amps = tasks.map((t) => t.params.amplitude as number);
    const phases = tasks.map((t) => t.params.phase as number);
    expect(Math.min(...amps)).toBeGreaterThanOrEqual(0.1);
    expect(Math.max(...amps)).toBeLessThanOrEqual(5.0);
    expect(Math.min(...phases)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...phases)).toBeLessThanOrEqual(Math.PI);
    // Uniform: the mean is near the centre (std of the mean ~ 1.41/sqrt(2000) = 0.03).
    expect(Math.abs(amps.reduce((a, b) => a + b) / amps.length - 2.55)).toBeLessThan(0.15);
  });

  it('uses the configured ranges', () => {
    const fam = sinusoidFamilyPlugin.create(sinusoidConfig.parse({ amplitude: [1, 1], phase: [0.5, 0.5] }));
    const [t] = sampleTasks(fam, { split: 'test', seed: 0, start: 0, count: 1 });
    expect(t.params).toEqual({ amplitude: 1, phase: 0.5 });
  });

  it('rejects an inverted range and unknown keys', () => {
    expect(sinusoidConfig.safeParse({ amplitude: [5, 1] }).success).toBe(false);
    expect(sinusoidConfig.safeParse({ frequency: 2 }).success).toBe(false);
  });

  it('rejects too many tasks with RESOURCE_EXHAUSTED and unknown splits with INVALID_ARGUMENT', () => {
    const fam = new SinusoidFamily();
    expect(() => sampleTasks(fam, { split: 'train', seed: 0, start: 0, count: 100_001 })).toThrow(
      expect.objectContaining({ code: 'RESOURCE_EXHAUSTED' }),
    );
    expect(() => sampleTasks(fam, { split: 'bogus' as never, seed: 0, start: 0, count: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
