import type { VegaLiteSpec } from '../render';
import type { PolicyCandidateResult } from '../types';
import { frame, PALETTE } from './theme';

/** Name of the task-observing policy in an RL eval.json: a reference, it never adapts. */
export const ORACLE = 'oracle';
/** Horizontal dodge between candidates, in steps, so error bars do not hide each other. */
const DODGE = 0.08;
/** Extra room left and right of steps 0 and max, in steps. */
const MARGIN = 0.4;

/** How the page names a candidate that is drawn as a horizontal reference line. */
export function referenceLabel(name: string): string {
  return name === ORACLE ? 'oracle (sees the task)' : `${name} (does not adapt)`;
}

/**
 * A candidate is a reference when it is the oracle, or when it was evaluated at step 0 only
 * while others adapted: a single point at step 0 would hide its meaning (an upper bound the
 * adapting policies should approach at every step), a line across the steps shows it.
 */
export function isReference(r: PolicyCandidateResult, maxStep: number): boolean {
  const steps = (r.episodeReturn ?? []).filter((s) => Number.isFinite(s.mean)).map((s) => s.step);
  return r.name === ORACLE || (maxStep > 0 && steps.length > 0 && steps.every((s) => s === 0));
}

/**
 * Mean episode return vs adaptation steps: one line with 95% CI error bars per adapting
 * candidate, and every reference (the oracle) as a dashed horizontal rule with its CI as a
 * faint band and its label at the right end. Colours follow the candidates' order in eval.json.
 */
export function returnAdaptationSpec(results: readonly PolicyCandidateResult[]): VegaLiteSpec {
  const finite = results.map((r) => ({ ...r, episodeReturn: (r.episodeReturn ?? []).filter((s) => Number.isFinite(s.step) && Number.isFinite(s.mean)) }));
  const maxStep = Math.max(1, ...finite.flatMap((r) => r.episodeReturn.map((s) => s.step)));
  const adapting = finite.filter((r) => r.episodeReturn.length > 0 && !isReference(r, maxStep));
  const references = finite.filter((r) => r.episodeReturn.length > 0 && isReference(r, maxStep));
  const displayName = (r: PolicyCandidateResult) => (isReference(r, maxStep) ? referenceLabel(r.name) : r.name);
  const ci = (v: number | undefined) => (Number.isFinite(v) ? (v as number) : 0);

  const curves = adapting.flatMap((r, i) => {
    const shift = (i - (adapting.length - 1) / 2) * DODGE;
    return r.episodeReturn.map((s) => ({ candidate: r.name, step: s.step, x: s.step + shift, mean: s.mean, lo: s.mean - ci(s.ci95), hi: s.mean + ci(s.ci95) }));
  });
  const [x0, x1] = [-MARGIN, maxStep + MARGIN];
  const refs = references.map((r) => {
    const s = r.episodeReturn.find((p) => p.step === 0) ?? r.episodeReturn[0];
    return { candidate: displayName(r), mean: s.mean, lo: s.mean - ci(s.ci95), hi: s.mean + ci(s.ci95), x0, x1 };
  });

  const domain = finite.filter((r) => r.episodeReturn.length > 0).map(displayName);
  const range = finite.map((_, i) => PALETTE[i % PALETTE.length]).filter((_, i) => finite[i].episodeReturn.length > 0);
  // Colour and dash share field and domain, so they merge into one legend whose entries look
  // like the lines: solid for adapting candidates, dashed for references.
  const legend = { orient: 'top', direction: 'horizontal', symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolSize: 300, symbolOpacity: 1 };
  const color = { field: 'candidate', type: 'nominal', title: null, scale: { domain, range }, legend };
  const refNames = new Set(refs.map((r) => r.candidate));
  const strokeDash = { field: 'candidate', type: 'nominal', title: null, scale: { domain, range: domain.map((n) => (refNames.has(n) ? [6, 4] : [1, 0])) }, legend };
  const xScale = { domain: [x0, x1], nice: false };
  const x = { field: 'x', type: 'quantitative', title: 'adaptation steps (policy-gradient steps)', scale: xScale, axis: { tickMinStep: 1, format: 'd', values: stepTicks(maxStep) } };
  const xRef = { field: 'x0', type: 'quantitative', title: x.title, scale: xScale };
  const yTitle = 'episode return (mean ± 95% CI over tasks)';
  const y = (field: string) => ({ field, type: 'quantitative', title: yTitle, scale: { zero: false } });

  const layer: VegaLiteSpec[] = [];
  refs.forEach((ref) => {
    // The band takes its colour as a constant: as an encoding it would fade the legend symbols.
    const band = range[domain.indexOf(ref.candidate)];
    layer.push({ data: { values: [ref] }, mark: { type: 'rect', opacity: 0.1, color: band }, encoding: { x: xRef, x2: { field: 'x1' }, y: y('lo'), y2: { field: 'hi' } } });
  });
  if (refs.length) {
    const data = { values: refs };
    layer.push(
      { data, mark: { type: 'rule', strokeWidth: 1.6 }, encoding: { x: xRef, x2: { field: 'x1' }, y: y('mean'), color, strokeDash } },
      { data, mark: { type: 'text', align: 'right', baseline: 'bottom', dx: -4, dy: -3, fontSize: 11 }, encoding: { x: { ...xRef, field: 'x1' }, y: y('mean'), text: { field: 'candidate' }, color } },
    );
  }
  if (curves.length) {
    const data = { values: curves };
    layer.push(
      { data, mark: { type: 'rule', strokeWidth: 1.2 }, encoding: { x, y: y('lo'), y2: { field: 'hi' }, color } },
      { data, mark: { type: 'line', strokeWidth: 1.8 }, encoding: { x, y: y('mean'), color, strokeDash } },
      { data, mark: { type: 'point', filled: true, size: 36 }, encoding: { x, y: y('mean'), color } },
    );
  }
  return frame('Return vs adaptation steps', { width: 560, height: 300, layer });
}

function stepTicks(maxStep: number): number[] {
  const every = Math.max(1, Math.ceil(maxStep / 10));
  const ticks: number[] = [];
  for (let s = 0; s <= maxStep; s += every) ticks.push(s);
  return ticks;
}
