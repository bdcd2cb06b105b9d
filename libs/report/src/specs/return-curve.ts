import type { VegaLiteSpec } from '../render';
import { finiteRows, frame, PALETTE } from './theme';

/** One point of an RL training curve: the mean episode return of a series at an iteration. */
export interface ReturnPoint {
  iteration: number;
  series: string;
  value: number;
}

/**
 * The curves of an RL run and their look. Colours follow the evaluation's candidate order
 * (algorithm blue, pretrained orange, oracle red) so a policy keeps its colour down the page;
 * "before adaptation" is the algorithm's colour dashed, as in the validation plot.
 */
export const RETURN_SERIES = {
  post: { name: 'meta-train: after adaptation', colour: PALETTE[0], dash: [1, 0] },
  pre: { name: 'meta-train: before adaptation', colour: PALETTE[0], dash: [5, 3] },
  baseline: { name: 'baseline ("pretrained", multi-task TRPO)', colour: PALETTE[1], dash: [1, 0] },
  oracle: { name: 'oracle (TRPO, sees the task)', colour: PALETTE[3], dash: [1, 0] },
} as const;

/** Below this many points per series the points are marked: a 2-iteration run is 2 dots, not a stub. */
const MARK_POINTS_BELOW = 60;

/**
 * Mean episode return vs iteration, one line per series, linear y: returns are negative for
 * cost-like rewards (2D navigation) and positive for others, so no log scale and no zero.
 */
export function returnCurveSpec(points: readonly ReturnPoint[], title = 'Training return'): VegaLiteSpec {
  const values = finiteRows(points, ['iteration', 'value']);
  const known = Object.values(RETURN_SERIES);
  const present = [...new Set(values.map((p) => p.series))];
  const domain = [...known.map((s) => s.name).filter((n) => present.includes(n)), ...present.filter((n) => !known.some((s) => s.name === n))];
  const style = (n: string, i: number) => known.find((s) => s.name === n) ?? { colour: PALETTE[(4 + i) % PALETTE.length], dash: [1, 0] };
  const counts = domain.map((n) => values.filter((v) => v.series === n).length);
  const legend = { orient: 'top', direction: 'horizontal', symbolType: 'stroke', symbolSize: 260, title: null };
  return frame(title, {
    width: 760,
    height: 280,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.6, clip: true, ...(Math.min(...counts) < MARK_POINTS_BELOW ? { point: { size: 24, filled: true } } : {}) },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration (of its phase: meta-updates, then TRPO steps)', axis: { format: ',d', tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: 'mean episode return (higher is better)' },
      color: { field: 'series', type: 'nominal', scale: { domain, range: domain.map((n, i) => style(n, i).colour) }, legend },
      strokeDash: { field: 'series', type: 'nominal', scale: { domain, range: domain.map((n, i) => style(n, i).dash) }, legend },
    },
  });
}
