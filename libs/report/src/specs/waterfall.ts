import type { VegaLiteSpec } from '../render';
import type { WaterfallSpan } from '../traces';
import { frame, PALETTE } from './theme';

const ROW_HEIGHT = 15;
const LABEL_WIDTH = 300;
const INDENT = 14;

function formatMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(0)} µs`;
}

/**
 * Waterfall of one trace: a bar per span from its start to its end (ms after the root
 * started), one row per span in start order, labelled "service: name" and indented by depth,
 * coloured by service. Rows are keyed by index so equal labels stay separate rows.
 */
export function waterfallSpec(spans: readonly WaterfallSpan[], title = 'One meta-iteration, span by span'): VegaLiteSpec {
  const total = Math.max(1e-6, ...spans.map((s) => s.endMs));
  const minWidth = total * 0.002;
  const maxDepth = Math.max(0, ...spans.map((s) => s.depth));
  const services = [...new Set(spans.map((s) => s.service))].sort();
  const values = spans.map((s, i) => ({
    row: String(i).padStart(5, '0'),
    label: `${s.service}: ${s.name}`,
    // Pixels left of the plot (scale: null): labels cannot be indented with spaces, vega trims them.
    labelX: -LABEL_WIDTH + INDENT * s.depth,
    service: s.service,
    start: s.startMs,
    end: Math.max(s.endMs, s.startMs + minWidth),
    duration: formatMs(s.endMs - s.startMs),
  }));
  return frame(title, {
    width: 560,
    height: Math.max(ROW_HEIGHT * 3, ROW_HEIGHT * values.length),
    data: { values },
    encoding: { y: { field: 'row', type: 'ordinal', sort: null, axis: null } },
    layer: [
      {
        mark: { type: 'bar', height: ROW_HEIGHT - 4, cornerRadius: 1 },
        encoding: {
          x: { field: 'start', type: 'quantitative', title: 'time since the meta-iteration started (ms)', scale: { domain: [0, total * 1.12], nice: false } },
          x2: { field: 'end' },
          color: { field: 'service', type: 'nominal', title: 'service', scale: { domain: services, range: PALETTE }, legend: { orient: 'top' } },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 9.5, color: '#555' },
        encoding: { x: { field: 'end', type: 'quantitative' }, text: { field: 'duration' } },
      },
      {
        mark: { type: 'text', align: 'left', fontSize: 10.5, color: '#222', limit: LABEL_WIDTH - INDENT * maxDepth - 8 },
        encoding: { x: { field: 'labelX', type: 'quantitative', scale: null }, text: { field: 'label' } },
      },
    ],
  });
}
