import type { VegaLiteSpec } from '../render';

/** Colours shared by every plot so a candidate or service keeps its colour across the page. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const FONT = 'Helvetica, Arial, sans-serif';

/** Look shared by every plot: readable sizes, white background, light grid. */
const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  title: { fontSize: 14, fontWeight: 600, anchor: 'start', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 500, gridColor: '#eee', labelColor: '#333', titleColor: '#222' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320, symbolStrokeWidth: 2 },
  header: { labelFontSize: 12, labelFontWeight: 600, titleFontSize: 12 },
};

/** The frame every spec starts from. No $schema: the page must not reference any URL. */
export function frame(title: string, extra: VegaLiteSpec): VegaLiteSpec {
  return { title, padding: 8, config: CONFIG, ...extra };
}

/** A log scale needs every value positive; otherwise fall back to linear. */
export function yScaleFor(values: readonly number[], preferLog: boolean): { type: 'log' | 'linear'; zero?: boolean } {
  const usable = values.filter((v) => Number.isFinite(v));
  if (preferLog && usable.length > 0 && usable.every((v) => v > 0)) return { type: 'log' };
  return { type: 'linear', zero: false };
}

/** Keeps only the rows whose numeric fields are finite (vega-lite drops NaN with warnings). */
export function finiteRows<T extends object>(rows: readonly T[], fields: readonly (keyof T)[]): T[] {
  return rows.filter((r) => fields.every((f) => Number.isFinite(r[f] as unknown as number)));
}
