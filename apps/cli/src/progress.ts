import type { Progress as ProgressEvent } from '@chameleon/proto';

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(digits)) : '-');

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/**
 * A progress bar on a terminal (one line, redrawn), or a line every 10% elsewhere (CI logs).
 */
export class ProgressDisplay {
  private lastPhase = '';
  private lastDecile = -1;
  private lastDraw = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  update(p: ProgressEvent): void {
    const total = Math.max(1, p.totalIterations);
    const frac = p.iteration / total;
    const line = `${p.phase.padEnd(10)} ${this.bar(frac)} ${String(p.iteration).padStart(String(total).length)}/${total}  loss ${fmt(p.metaLoss)}  (before adaptation ${fmt(p.preAdaptationLoss)})  ${fmt(p.iterationsPerSecond)} it/s  eta ${eta((total - p.iteration) / p.iterationsPerSecond)}`;
    if (this.out.isTTY) {
      const now = Date.now();
      if (p.phase !== this.lastPhase && this.lastPhase) this.out.write('\n');
      if (now - this.lastDraw > 100 || p.iteration === total || p.phase !== this.lastPhase) {
        this.out.write(`\r${line.slice(0, (this.out.columns || 160) - 1)}\x1b[K`);
        this.lastDraw = now;
      }
      if (p.iteration === total) this.out.write('\n');
    } else {
      const decile = Math.floor(frac * 10);
      if (decile !== this.lastDecile || p.phase !== this.lastPhase) this.out.write(`${line}\n`);
      this.lastDecile = decile;
    }
    this.lastPhase = p.phase;
  }

  private bar(frac: number): string {
    const width = 24;
    const n = Math.round(Math.min(1, Math.max(0, frac)) * width);
    return `[${'#'.repeat(n)}${'-'.repeat(width - n)}]`;
  }
}
