import type { VegaLiteSpec } from '../render';
import { finiteRows, frame, PALETTE, yScaleFor } from './theme';

/** One point of a training curve; `series` names the curve (e.g. "meta-train: post-adaptation"). */
export interface LossPoint {
  iteration: number;
  series: string;
  loss: number;
}

/**
 * Loss vs iteration, one line per series, log-scale y when every loss is positive.
 * Feed it downsampled points (see downsample): vega draws every row it gets.
 */
export function lossCurveSpec(points: readonly LossPoint[], title = 'Meta-training loss'): VegaLiteSpec {
  const values = finiteRows(points, ['iteration', 'loss']);
  const scale = yScaleFor(values.map((p) => p.loss), true);
  const series = [...new Set(values.map((p) => p.series))];
  return frame(title, {
    width: 760,
    height: 280,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.6, clip: true },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration (meta-updates)', axis: { format: ',d', tickMinStep: 1 } },
      y: { field: 'loss', type: 'quantitative', scale, title: `query loss${scale.type === 'log' ? ' (log scale)' : ''}` },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: series, range: PALETTE }, legend: { orient: 'top', direction: 'horizontal', symbolType: 'stroke' } },
    },
  });
}
