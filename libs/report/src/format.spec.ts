import { formatBytes, formatDuration, formatMeanCi, formatNumber } from './format';

describe('formats', () => {
  it('mean ± ci95: the mean to 3 significant digits, the CI to the same decimals', () => {
    expect(formatMeanCi(3.2104, 0.1523)).toBe('3.21 ± 0.15');
    expect(formatMeanCi(0.5123, 0.0312)).toBe('0.512 ± 0.031');
    expect(formatMeanCi(123.4, 5.2)).toBe('123 ± 5');
    expect(formatMeanCi(0, 0)).toBe('0.000 ± 0.000');
    expect(formatMeanCi(NaN, 1)).toBe('—');
    expect(formatMeanCi(2e-6, 1e-7)).toBe('2.00e-6 ± 1.0e-7');
  });

  it('numbers, durations and sizes', () => {
    expect(formatNumber(0.01)).toBe('0.01');
    expect(formatNumber(2.345678)).toBe('2.35');
    expect(formatNumber(12345)).toBe('12300');
    expect(formatNumber(undefined)).toBe('—');
    expect(formatDuration(4.25)).toBe('4.3 s');
    expect(formatDuration(725)).toBe('12 min 05 s');
    expect(formatDuration(7380)).toBe('2 h 03 min');
    expect(formatBytes(2048)).toBe('2.0 KiB');
  });
});
