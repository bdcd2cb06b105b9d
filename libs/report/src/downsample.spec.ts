import { downsample } from './downsample';

describe('downsample', () => {
  const rows = Array.from({ length: 100_000 }, (_, i) => ({ iteration: i + 1, loss: Math.sin(i) + i / 1000, tag: `t${i}` }));

  it('bounds the point count', () => {
    for (const max of [1, 7, 500, 99_999]) expect(downsample(rows, max, ['iteration', 'loss']).length).toBeLessThanOrEqual(max);
    expect(downsample(rows, 500, ['iteration']).length).toBe(500);
  });

  it('replaces each field by the mean of its bin (bins of equal size, in order)', () => {
    const out = downsample(rows, 500, ['iteration', 'loss']);
    const bin = 100_000 / 500;
    for (const k of [0, 1, 250, 499]) {
      const slice = rows.slice(k * bin, (k + 1) * bin);
      const mean = (f: 'iteration' | 'loss') => slice.reduce((a, r) => a + r[f], 0) / slice.length;
      expect(out[k].iteration).toBeCloseTo(mean('iteration'), 9);
      expect(out[k].loss).toBeCloseTo(mean('loss'), 9);
      expect(out[k].tag).toBe(slice[0].tag);
    }
    // The overall mean survives exactly when bins are equal.
    const total = (xs: { loss: number }[]) => xs.reduce((a, r) => a + r.loss, 0) / xs.length;
    expect(total(out)).toBeCloseTo(total(rows), 9);
  });

  it('keeps a short series as is, and a ragged last bin averages only its own rows', () => {
    const small = rows.slice(0, 10);
    expect(downsample(small, 10, ['loss'])).toEqual(small);
    const out = downsample(rows.slice(0, 10), 4, ['iteration']); // bins of 3: [1,2,3] [4,5,6] [7,8,9] [10]
    expect(out.map((r) => r.iteration)).toEqual([2, 5, 8, 10]);
  });

  it('ignores non-finite values inside a bin, NaN when none is finite', () => {
    const out = downsample([{ v: 1 }, { v: NaN }, { v: NaN }, { v: NaN }], 2, ['v']);
    expect(out[0].v).toBe(1);
    expect(out[1].v).toBeNaN();
  });

  it('rejects a bound below one', () => {
    expect(() => downsample(rows, 0, ['loss'])).toThrow(/maxPoints/);
  });
});
