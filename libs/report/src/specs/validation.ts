import type { VegaLiteSpec } from '../render';
import { finiteRows, frame, PALETTE, yScaleFor } from './theme';

/** Validation loss of one candidate at one adaptation step, measured at a training iteration. */
export interface ValidationPoint {
  iteration: number;
  candidate: string;
  /** e.g. "step 0" or "step 10". */
  step: string;
  loss: number;
}

const stepNumber = (label: string): number => Number(/(\d+)/.exec(label)?.[1] ?? 0);

/**
 * Validation loss vs iteration, one line per (candidate, step): colour = candidate, dashed =
 * before adaptation (step 0). One combined legend, so each entry shows its colour and dash.
 */
export function validationSpec(points: readonly ValidationPoint[], candidates: readonly string[]): VegaLiteSpec {
  const known = [...candidates, ...points.map((p) => p.candidate).filter((c) => !candidates.includes(c))];
  const values = finiteRows(points, ['iteration', 'loss']).map((p) => ({ ...p, series: `${p.candidate}, ${p.step}` }));
  const series = [...new Map(values.map((v) => [v.series, v])).values()]
    .sort((a, b) => known.indexOf(a.candidate) - known.indexOf(b.candidate) || stepNumber(a.step) - stepNumber(b.step))
    .map((v) => ({ name: v.series, colour: PALETTE[known.indexOf(v.candidate) % PALETTE.length], dashed: stepNumber(v.step) === 0 }));
  const domain = series.map((s) => s.name);
  const scale = yScaleFor(values.map((p) => p.loss), true);
  const legend = { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 260, title: 'candidate, step' };
  return frame('Validation during training', {
    width: 760,
    height: 260,
    data: { values },
    mark: { type: 'line', point: { size: 28 }, strokeWidth: 1.6 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration (meta-updates)', axis: { format: ',d', tickMinStep: 1 } },
      y: { field: 'loss', type: 'quantitative', scale, title: `validation loss${scale.type === 'log' ? ' (log scale)' : ''}` },
      color: { field: 'series', type: 'nominal', scale: { domain, range: series.map((s) => s.colour) }, legend },
      strokeDash: { field: 'series', type: 'nominal', scale: { domain, range: series.map((s) => (s.dashed ? [5, 3] : [1, 0])) }, legend },
    },
  });
}
