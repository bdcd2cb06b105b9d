/** Number formats used on the page; tests assert these exact strings. */

/** At most 3 significant digits (0.01, 2.35, 12300), exponent outside [1e-3, 1e5). "—" if missing. */
export function formatNumber(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}

/**
 * "mean ± ci95" with the mean to 3 significant digits and the CI to the same decimals,
 * e.g. 0.512 ± 0.031, 3.21 ± 0.15, 123 ± 5.
 */
export function formatMeanCi(mean: number | undefined, ci95: number | undefined): string {
  if (mean === undefined || !Number.isFinite(mean)) return '—';
  const a = Math.abs(mean);
  if (a !== 0 && (a >= 1e5 || a < 1e-4)) return `${mean.toExponential(2)} ± ${Number.isFinite(ci95) ? (ci95 as number).toExponential(1) : '?'}`;
  const decimals = a === 0 ? 3 : Math.min(6, Math.max(0, 2 - Math.floor(Math.log10(a))));
  const ci = Number.isFinite(ci95) ? (ci95 as number).toFixed(decimals) : '?';
  return `${mean.toFixed(decimals)} ± ${ci}`;
}

/** Seconds as "2 h 03 min", "12 min 05 s", "4.2 s". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h} h ${pad(m)} min` : `${m} min ${pad(s % 60)} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
