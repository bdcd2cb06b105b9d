import { meanCi95, stepMetrics } from './stats';

describe('meanCi95', () => {
  it('is the mean with 1.96 standard errors of the sample standard deviation', () => {
    const m = meanCi95([1, 2, 3, 4]);
    expect(m.mean).toBe(2.5);
    expect(m.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(m.ci95).toBeCloseTo((1.96 * Math.sqrt(5 / 3)) / 2, 12);
  });
});

describe('stepMetrics', () => {
  it('reports the paired change from step 0, whose interval excludes the between-task spread', () => {
    // Three tasks far apart; adaptation adds exactly 1 to every task's value.
    const step0 = [-300, -100, 50];
    const step1 = step0.map((v) => v + 1);
    const step2 = [-299, -99, 54]; // +1, +1, +4
    const [s0, s1, s2] = stepMetrics([step0, step1, step2]);
    expect(s0).toMatchObject({ step: 0, changeMean: 0, changeCi95: 0 });
    expect(s1.changeMean).toBeCloseTo(1, 12);
    expect(s1.changeCi95).toBe(0);
    // Unpaired intervals overlap hugely; the paired one does not contain 0.
    expect(s1.ci95).toBeGreaterThan(100);
    expect(s2.changeMean).toBeCloseTo(2, 12);
    expect(s2.changeCi95).toBeCloseTo((1.96 * Math.sqrt(3)) / Math.sqrt(3), 12);
    expect(s2.mean).toBeCloseTo(meanCi95(step2).mean, 12);
  });
});
