import { escapeHtml, note, section } from '../html';
import type { RunData } from '../load-run';
import { waterfallSpec } from '../specs/waterfall';
import { META_ITERATION_SPAN } from '../traces';
import type { PlotFn } from './plot';

/** "Trace" section: the waterfall of the meta-iteration that crossed the most services. */
export async function traceSection(data: RunData, plot: PlotFn): Promise<string> {
  const t = data.traces;
  let body: string;
  if (!t) {
    const why = data.missing.some((f) => f.file === 'traces.jsonl') ? 'traces.jsonl is missing' : 'traces.jsonl could not be read';
    body = note(`No waterfall: ${why}.`, 'missing');
  } else if (!t.selected) {
    body = note(`traces.jsonl holds ${t.stats.records} span(s) but no "${META_ITERATION_SPAN}" root span.`, 'missing');
  } else {
    const s = t.selected;
    const facts = `Trace <code class="trace-id">${escapeHtml(s.traceId)}</code>${s.iteration !== undefined ? `, ${s.preferredPhase ? `${escapeHtml(s.preferredPhase)} ` : ''}iteration ${s.iteration}` : ''}: ${s.spans.length + s.omitted} spans across ${s.services.length} service(s) (${escapeHtml(s.services.join(', '))}). Chosen as the ${s.preferredPhase ? `${escapeHtml(s.preferredPhase)} ` : ''}${META_ITERATION_SPAN} trace with the most services (ties: the latest) among ${s.candidates}.`;
    const omitted = s.omitted ? ` The ${s.omitted} latest-starting span(s) are not drawn.` : '';
    body = `<p>${facts}${omitted}</p>` + (await plot('waterfall', waterfallSpec(s.spans)));
  }
  return section('trace', 'Trace of one meta-iteration', body);
}
