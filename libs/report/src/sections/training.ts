import { escapeHtml, note, section, table } from '../html';
import { formatNumber } from '../format';
import type { RunData } from '../load-run';
import type { MetricsSummary } from '../metrics';
import { LossPoint, lossCurveSpec } from '../specs/loss-curve';
import { throughputSpec } from '../specs/throughput';
import { ValidationPoint, validationSpec } from '../specs/validation';
import type { PlotFn } from './plot';

const META_TRAIN = 'meta-train';
const BASELINE = 'baseline';

/** Curves of the loss plot: post- and pre-adaptation for meta-train, the baseline's loss. */
export function lossPoints(m: MetricsSummary): LossPoint[] {
  const points: LossPoint[] = [];
  for (const r of m.progress[META_TRAIN] ?? []) {
    points.push({ iteration: r.iteration, series: 'meta-train: after adaptation (metaLoss)', loss: r.metaLoss });
    points.push({ iteration: r.iteration, series: 'meta-train: before adaptation', loss: r.preAdaptationLoss });
  }
  for (const r of m.progress[BASELINE] ?? []) points.push({ iteration: r.iteration, series: 'baseline (pretraining): loss', loss: r.metaLoss });
  return points;
}

/** Validation curves: each candidate at step 0 and at its largest step, per validation event. */
export function validationPoints(m: MetricsSummary): ValidationPoint[] {
  const points: ValidationPoint[] = [];
  for (const v of m.validation) {
    for (const r of v.results ?? []) {
      const loss = r.loss ?? [];
      if (loss.length === 0) continue;
      const first = loss.find((s) => s.step === 0);
      const last = loss.reduce((a, b) => (b.step > a.step ? b : a));
      if (first) points.push({ iteration: v.iteration, candidate: r.name, step: 'step 0', loss: first.mean });
      if (last.step !== 0) points.push({ iteration: v.iteration, candidate: r.name, step: `step ${last.step}`, loss: last.mean });
    }
  }
  return points;
}

/** "Long runs are averaged into bins (meta-train: 500 points from 2,000 progress lines; …)". */
export function binningNote(m: MetricsSummary): string {
  const counts = Object.entries(m.progressCounts).map(
    ([phase, n]) => `${escapeHtml(phase)}: ${(m.progress[phase]?.length ?? 0).toLocaleString('en-US')} points from ${n.toLocaleString('en-US')} progress lines`,
  );
  return `Long runs are averaged into bins (${counts.join('; ')})`;
}

function progressNote(m: MetricsSummary): string {
  return `Query-set loss per meta-batch, before and after the inner-loop adaptation. ${binningNote(m)}.`;
}

/** Mean seconds per meta-iteration in each phase of the loop, and its share. */
export function phaseTable(m: MetricsSummary): string {
  const entries = Object.entries(m.phaseSeconds);
  if (entries.length === 0) return '';
  const total = entries.reduce((a, [, v]) => a + v, 0);
  const rows = entries.map(([k, v]) => [escapeHtml(k), `${formatNumber(v * 1000)} ms`, `${formatNumber((100 * v) / total)} %`]);
  return `<h3>Where a meta-iteration's time goes (mean per iteration)</h3>${table([['phase', 'time', 'share'], ...rows])}`;
}

/** How many checkpoints, and where the last one is. */
export function checkpointsNote(m: MetricsSummary): string {
  if (m.checkpoints.length === 0) return '';
  const last = m.checkpoints[m.checkpoints.length - 1];
  return note(`${m.checkpoints.length} checkpoint(s); the last at iteration ${last.iteration}${last.phase ? ` (${escapeHtml(last.phase)})` : ''}: <code>${escapeHtml(last.path)}</code>`);
}

/** Iterations/s over wall-clock time, every phase; '' when no line has both numbers. */
export async function speedPlot(m: MetricsSummary, plot: PlotFn): Promise<string> {
  const speed = Object.entries(m.progress).flatMap(([phase, rows]) => rows.map((r) => ({ phase, elapsed: r.elapsed, itPerSec: r.itPerSec })));
  return speed.some((p) => Number.isFinite(p.itPerSec) && Number.isFinite(p.elapsed)) ? plot('throughput', throughputSpec(speed)) : '';
}

/** "Meta-training" and "Validation" sections. */
export async function trainingSections(data: RunData, plot: PlotFn): Promise<string> {
  const m = data.metrics;
  if (!m) {
    const why = data.missing.some((f) => f.file === 'metrics.jsonl') ? 'metrics.jsonl is missing' : 'metrics.jsonl could not be read';
    return section('training', 'Meta-training', note(`No training curves: ${why}.`, 'missing'));
  }
  const parts: string[] = [];
  const loss = lossPoints(m);
  parts.push(loss.length ? await plot('training-loss', lossCurveSpec(loss), progressNote(m)) : note('metrics.jsonl has no progress lines.', 'missing'));
  parts.push(await speedPlot(m, plot), phaseTable(m), checkpointsNote(m));

  const vpoints = validationPoints(m);
  const candidates = [...new Set([...(data.evaluation?.results.map((r) => r.name) ?? []), ...vpoints.map((p) => p.candidate)])];
  const validation = vpoints.length
    ? await plot('validation', validationSpec(vpoints, candidates), `${m.validation.length} validation events; dashed = before adaptation.`)
    : note('No validation events in metrics.jsonl.', 'info');
  return section('training', 'Meta-training', parts.join('\n')) + section('validation', 'Validation', validation);
}
