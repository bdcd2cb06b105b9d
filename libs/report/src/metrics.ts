import { downsample } from './downsample';
import { forEachJsonl, JsonlStats } from './jsonl';
import type { CheckpointEvent, ValidationEvent } from './types';

/** Points per plotted series: enough for a smooth curve, small enough for a light page. */
export const MAX_PLOT_POINTS = 500;

/** The numbers of one progress line that the plots need (nothing else is kept). */
export interface ProgressRow {
  iteration: number;
  metaLoss: number;
  preAdaptationLoss: number;
  /** RL runs only (NaN otherwise): mean episode return before / after adaptation. */
  preAdaptationReturn: number;
  postAdaptationReturn: number;
  itPerSec: number;
  elapsed: number;
}

export interface MetricsSummary {
  /** Per phase ("meta-train", "baseline", ...), downsampled to ≤ MAX_PLOT_POINTS bin means. */
  progress: Record<string, ProgressRow[]>;
  /** Progress lines seen per phase, before downsampling. */
  progressCounts: Record<string, number>;
  /** Mean seconds per iteration spent in each phase of the meta-train loop. */
  phaseSeconds: Record<string, number>;
  validation: ValidationEvent[];
  checkpoints: CheckpointEvent[];
  stats: JsonlStats;
}

const FIELDS: (keyof ProgressRow)[] = ['iteration', 'metaLoss', 'preAdaptationLoss', 'preAdaptationReturn', 'postAdaptationReturn', 'itPerSec', 'elapsed'];
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

/** Streams metrics.jsonl once, keeping compact rows, then bins each phase's curve. */
export async function summariseMetrics(path: string, maxPoints = MAX_PLOT_POINTS): Promise<MetricsSummary> {
  const raw: Record<string, ProgressRow[]> = {};
  const phaseSum: Record<string, number> = {};
  let phaseCount = 0;
  const validation: ValidationEvent[] = [];
  const checkpoints: CheckpointEvent[] = [];
  const stats = await forEachJsonl(path, (r) => {
    if (r['type'] === 'progress') {
      const phase = typeof r['phase'] === 'string' ? r['phase'] : 'unknown';
      (raw[phase] ??= []).push({
        iteration: num(r['iteration']),
        metaLoss: num(r['metaLoss']),
        preAdaptationLoss: num(r['preAdaptationLoss']),
        preAdaptationReturn: num(r['preAdaptationReturn']),
        postAdaptationReturn: num(r['postAdaptationReturn']),
        itPerSec: num(r['itPerSec']),
        elapsed: num(r['elapsed']),
      });
      const ps = r['phaseSeconds'];
      if (phase === 'meta-train' && ps && typeof ps === 'object') {
        phaseCount++;
        for (const [k, v] of Object.entries(ps)) if (typeof v === 'number') phaseSum[k] = (phaseSum[k] ?? 0) + v;
      }
    } else if (r['type'] === 'validation' && Array.isArray(r['results'])) {
      validation.push(r as unknown as ValidationEvent);
    } else if (r['type'] === 'checkpoint') {
      checkpoints.push(r as unknown as CheckpointEvent);
    }
  });
  const progress: Record<string, ProgressRow[]> = {};
  const progressCounts: Record<string, number> = {};
  for (const [phase, rows] of Object.entries(raw)) {
    rows.sort((a, b) => a.iteration - b.iteration);
    progressCounts[phase] = rows.length;
    progress[phase] = downsample(rows, maxPoints, FIELDS);
  }
  const phaseSeconds = Object.fromEntries(Object.entries(phaseSum).map(([k, v]) => [k, v / phaseCount]));
  return { progress, progressCounts, phaseSeconds, validation, checkpoints, stats };
}
