/**
 * Reduces a series to at most `maxPoints` points by averaging consecutive bins of equal size
 * (the last bin may be smaller). Every numeric field listed in `fields` becomes its bin mean,
 * ignoring non-finite values (a bin with none gives NaN); other fields come from the bin's
 * first row. Order is kept, so a series sorted by iteration stays sorted. O(n).
 *
 * @example
 *   downsample(progress, 500, ['iteration', 'metaLoss']); // ≤ 500 rows, bin means
 */
export function downsample<T extends object>(rows: readonly T[], maxPoints: number, fields: readonly (keyof T)[]): T[] {
  if (!(maxPoints >= 1)) throw new RangeError(`downsample: maxPoints must be >= 1, got ${maxPoints}`);
  if (rows.length <= maxPoints) return rows.slice();
  const binSize = Math.ceil(rows.length / maxPoints);
  const out: T[] = [];
  for (let start = 0; start < rows.length; start += binSize) {
    const end = Math.min(rows.length, start + binSize);
    const merged = { ...rows[start] } as T;
    for (const field of fields) {
      let sum = 0;
      let count = 0;
      for (let i = start; i < end; i++) {
        const v = rows[i][field] as unknown;
        if (typeof v === 'number' && Number.isFinite(v)) {
          sum += v;
          count++;
        }
      }
      (merged as Record<keyof T, unknown>)[field] = count > 0 ? sum / count : NaN;
    }
    out.push(merged);
  }
  return out;
}
