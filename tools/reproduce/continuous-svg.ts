/** A small dependency-free SVG line chart (mean with a shaded 95% interval per series). */
export interface Series {
  readonly name: string;
  readonly y: readonly number[];
  readonly lo?: readonly number[];
  readonly hi?: readonly number[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function lineChart(series: readonly Series[], xLabels: readonly string[], title: string, yLabel: string, yRange?: readonly [number, number]): string {
  const [W, H, l, r, t, b] = [680, 380, 60, 185, 30, 45];
  const all = series.flatMap((s) => [...s.y, ...(s.lo ?? []), ...(s.hi ?? [])]).filter(Number.isFinite);
  let [y0, y1] = yRange ?? [Math.min(...all), Math.max(...all)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = yRange ? 0 : 0.05 * (y1 - y0);
  [y0, y1] = [y0 - pad, y1 + pad];
  const n = xLabels.length;
  const X = (i: number) => l + ((W - l - r) * i) / Math.max(1, n - 1);
  const Y = (v: number) => t + ((H - t - b) * (y1 - v)) / (y1 - y0);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  out.push(`<text x="8" y="18" font-size="13">${esc(title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = y0 + ((y1 - y0) * k) / 4;
    out.push(`<line x1="${l}" x2="${W - r}" y1="${Y(v)}" y2="${Y(v)}" stroke="#eee"/><text x="${l - 6}" y="${Y(v) + 4}" text-anchor="end">${v.toFixed(Math.abs(y1 - y0) < 5 ? 2 : 0)}</text>`);
  }
  xLabels.forEach((x, i) => out.push(`<text x="${X(i)}" y="${H - b + 18}" text-anchor="middle">${esc(x)}</text>`));
  out.push(`<line x1="${l}" x2="${l}" y1="${t}" y2="${H - b}" stroke="#333"/><line x1="${l}" x2="${W - r}" y1="${H - b}" y2="${H - b}" stroke="#333"/>`);
  out.push(`<text transform="translate(14 ${(H - b + t) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, k) => {
    const c = COLOURS[k % COLOURS.length];
    if (s.lo && s.hi) {
      const band = [...s.hi.map((v, i) => `${X(i)},${Y(v)}`), ...s.lo.map((v, i) => `${X(i)},${Y(v)}`).reverse()].join(' ');
      out.push(`<polygon points="${band}" fill="${c}" opacity="0.15"/>`);
    }
    // Non-finite values are gaps (a series that starts later than the x axis).
    const points = s.y.flatMap((v, i) => (Number.isFinite(v) ? [`${X(i)},${Y(v)}`] : []));
    out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${c}" stroke-width="2"/>`);
    out.push(`<line x1="${W - r + 10}" x2="${W - r + 30}" y1="${t + 10 + 18 * k}" y2="${t + 10 + 18 * k}" stroke="${c}" stroke-width="3"/><text x="${W - r + 35}" y="${t + 14 + 18 * k}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const smooth = (ys: readonly number[], w = 10) => ys.map((_, i) => ys.slice(Math.max(0, i - w + 1), i + 1).reduce((a, b) => a + b, 0) / Math.min(w, i + 1));

/**
 * Training returns by iteration (moving average of 10): PPO over warm start + continuation,
 * Algorithm 1 from the end of the warm start (gap before it). Used by continuous.ts and continuous-tables.ts.
 */
export function trainingChart(metaLog: ReadonlyArray<Record<string, number>>, ppoLog: ReadonlyArray<Record<string, number>>, warmLog: ReadonlyArray<Record<string, number>> = []): string {
  const W = warmLog.length;
  const gap: number[] = Array.from({ length: W }, () => NaN);
  const ppoAll = [...warmLog, ...ppoLog];
  const n = Math.max(ppoAll.length, W + metaLog.length);
  return lineChart(
    [
      { name: 'meta: T_i (theta)', y: [...gap, ...smooth(metaLog.map((r) => r.preReturn))] },
      { name: 'meta: T_i+1 (adapted)', y: [...gap, ...smooth(metaLog.map((r) => r.postReturn))] },
      { name: W ? 'PPO (warm start, then continued)' : 'PPO', y: smooth(ppoAll.map((r) => r.return)) },
    ],
    Array.from({ length: n }, (_, i) => (i % Math.max(1, Math.floor(n / 6)) === 0 ? String(i) : '')),
    W ? `training returns by iteration (moving average of 10; meta from PPO iteration ${W})` : 'training returns by iteration (moving average of 10)',
    'episode return',
  );
}
