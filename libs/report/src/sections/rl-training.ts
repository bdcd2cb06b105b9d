import { note, section } from '../html';
import type { RunData } from '../load-run';
import type { MetricsSummary } from '../metrics';
import { RETURN_SERIES, ReturnPoint, returnCurveSpec } from '../specs/return-curve';
import type { PlotFn } from './plot';
import { binningNote, checkpointsNote, phaseTable, speedPlot } from './training';

/**
 * Curves of the RL training plot: meta-train's return before and after the inner adaptation
 * step, and the plain policy's return in the "baseline" and "oracle" phases (where both
 * fields hold the same number). Returns, not metaLoss: metaLoss is -return for RL, and a
 * loss plot would hide the sign and put the baselines on a log scale they do not fit.
 */
export function returnPoints(m: MetricsSummary): ReturnPoint[] {
  const points: ReturnPoint[] = [];
  for (const r of m.progress['meta-train'] ?? []) {
    points.push({ iteration: r.iteration, series: RETURN_SERIES.post.name, value: r.postAdaptationReturn });
    points.push({ iteration: r.iteration, series: RETURN_SERIES.pre.name, value: r.preAdaptationReturn });
  }
  for (const r of m.progress['baseline'] ?? []) points.push({ iteration: r.iteration, series: RETURN_SERIES.baseline.name, value: r.postAdaptationReturn });
  for (const r of m.progress['oracle'] ?? []) points.push({ iteration: r.iteration, series: RETURN_SERIES.oracle.name, value: r.postAdaptationReturn });
  return points.filter((p) => Number.isFinite(p.value));
}

const CAPTION =
  'Mean undiscounted episode return per iteration (higher is better). Meta-train: on the meta-batch tasks before and after the inner adaptation step ' +
  '(after is what MAML maximises). Then, trained by TRPO after meta-training, the multi-task "pretrained" baseline and the oracle, which observes ' +
  'the task parameters. Each phase counts its own iterations from 1.';

/** The "Meta-training" section of an RL run: returns, speed, time per phase, checkpoints. */
export async function rlTrainingSections(data: RunData, plot: PlotFn): Promise<string> {
  const m = data.metrics;
  if (!m) {
    const why = data.missing.some((f) => f.file === 'metrics.jsonl') ? 'metrics.jsonl is missing' : 'metrics.jsonl could not be read';
    return section('training', 'Meta-training', note(`No training curves: ${why}.`, 'missing'));
  }
  const points = returnPoints(m);
  const curves = points.length
    ? await plot('training-return', returnCurveSpec(points), `${CAPTION} ${binningNote(m)}.`)
    : note('metrics.jsonl has no progress lines with preAdaptationReturn / postAdaptationReturn.', 'missing');
  return section('training', 'Meta-training', [curves, await speedPlot(m, plot), phaseTable(m), checkpointsNote(m)].join('\n'));
}
