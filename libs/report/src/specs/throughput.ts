import type { VegaLiteSpec } from '../render';
import { finiteRows, frame, PALETTE } from './theme';

/** Iterations per second at a time since the start of the run. */
export interface ThroughputPoint {
  elapsed: number;
  itPerSec: number;
  phase: string;
}

/** Small plot of training speed over wall-clock time, one line per phase. */
export function throughputSpec(points: readonly ThroughputPoint[]): VegaLiteSpec {
  const values = finiteRows(points, ['elapsed', 'itPerSec']);
  const phases = [...new Set(values.map((p) => p.phase))];
  return frame('Training speed', {
    width: 760,
    height: 110,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.4, interpolate: 'monotone' },
    encoding: {
      x: { field: 'elapsed', type: 'quantitative', title: 'time since start (s)' },
      y: { field: 'itPerSec', type: 'quantitative', title: 'iterations / s', scale: { zero: true } },
      color: { field: 'phase', type: 'nominal', title: 'phase', scale: { domain: phases, range: PALETTE.slice(4) } },
    },
  });
}
