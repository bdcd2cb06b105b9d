import type { VegaLiteSpec } from '../render';
import type { CandidateResult } from '../types';
import { frame, PALETTE } from './theme';

export type AdaptationMetric = 'loss' | 'accuracy';

/** Horizontal dodge between candidates, in steps, so error bars do not hide each other. */
const DODGE = 0.1;

/**
 * Metric vs number of adaptation steps, one line per candidate, 95% CI error bars.
 * Candidates without data for the metric are left out.
 */
export function adaptationSpec(results: readonly CandidateResult[], metric: AdaptationMetric = 'loss'): VegaLiteSpec {
  const present = results.filter((r) => (r[metric] ?? []).length > 0);
  const candidates = results.map((r) => r.name);
  const values = present.flatMap((r, i) => {
    const shift = (i - (present.length - 1) / 2) * DODGE;
    return (r[metric] ?? [])
      .filter((s) => Number.isFinite(s.step) && Number.isFinite(s.mean))
      .map((s) => {
        const ci = Number.isFinite(s.ci95) ? s.ci95 : 0;
        return { candidate: r.name, step: s.step, x: s.step + shift, mean: s.mean, lo: s.mean - ci, hi: s.mean + ci };
      });
  });
  const maxStep = Math.max(1, ...values.map((v) => v.step));
  const color = { field: 'candidate', type: 'nominal', title: null, scale: { domain: candidates, range: PALETTE }, legend: { orient: 'top', direction: 'horizontal' } };
  const x = {
    field: 'x',
    type: 'quantitative',
    title: 'adaptation steps (gradient steps)',
    scale: { domain: [-0.4, maxStep + 0.4], nice: false },
    axis: { tickMinStep: 1, format: 'd', values: stepTicks(maxStep) },
  };
  const isAccuracy = metric === 'accuracy';
  const yTitle = isAccuracy ? 'accuracy (mean ± 95% CI)' : 'query loss (mean ± 95% CI)';
  return frame(isAccuracy ? 'Accuracy vs adaptation steps' : 'Loss vs adaptation steps', {
    width: 380,
    height: 260,
    data: { values },
    encoding: { x, color },
    layer: [
      { mark: { type: 'rule', strokeWidth: 1.2 }, encoding: { y: { field: 'lo', type: 'quantitative', title: yTitle, scale: { zero: false } }, y2: { field: 'hi' } } },
      { mark: { type: 'line', strokeWidth: 1.8 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
      { mark: { type: 'point', filled: true, size: 36 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
    ],
  });
}

function stepTicks(maxStep: number): number[] {
  const every = Math.max(1, Math.ceil(maxStep / 10));
  const ticks: number[] = [];
  for (let s = 0; s <= maxStep; s += every) ticks.push(s);
  return ticks;
}
