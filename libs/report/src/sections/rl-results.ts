import { escapeHtml, table } from '../html';
import { formatDuration, formatMeanCi, formatNumber } from '../format';
import { isReference, referenceLabel } from '../specs/return-adaptation';
import type { PolicyEvalReport, StepStat } from '../types';
import { configValue } from './config-value';

const at = (stats: readonly StepStat[] | undefined, step: number) => stats?.find((s) => s.step === step);

/** The RL facts of the header: what a reader needs to compare two RL runs at a glance. */
export function rlFacts(config: Record<string, unknown>): [string, string | undefined][] {
  const v = (path: string) => configValue(config, path);
  const hidden = (config['policy'] as { config?: { hidden?: unknown } } | undefined)?.config?.hidden;
  const shape = [Array.isArray(hidden) ? hidden.join('×') : undefined, v('policy.config.activation')].filter(Boolean).join(', ');
  const policy = v('policy.architecture') && `${v('policy.architecture')}${shape ? ` (${shape})` : ''}`;
  const inner = v('inner.steps') && `${v('inner.steps')} step(s), lr ${v('inner.learningRate') ?? '?'}, γ ${v('inner.discount') ?? '?'}, λ ${v('inner.gaeLambda') ?? '?'}`;
  const batch = v('meta.batchSize') && `${v('meta.batchSize')} tasks × ${v('meta.episodesPerTask') ?? '?'} episodes, horizon ${v('meta.horizon') ?? '?'}`;
  const baselines = v('baseline.iterations') && `pretrained ${v('baseline.iterations')}, oracle ${v('baseline.oracleIterations') ?? '—'} TRPO iterations`;
  return [
    ['Policy', policy],
    ['Inner loop', inner],
    ['Meta-batch', batch],
    ['Baselines', baselines],
  ];
}

/** Steps the table shows: 0, 1 and the last one, without repeats. */
function tableSteps(e: PolicyEvalReport): number[] {
  const all = e.results.flatMap((r) => r.episodeReturn.map((s) => s.step)).filter(Number.isFinite);
  const last = all.length ? Math.max(...all) : 0;
  return [...new Set([0, 1, last])].filter((s) => s <= last);
}

/**
 * Results table of an RL run: per candidate, mean episode return ± 95% CI at steps 0, 1 and
 * the last; the best last-step return of the adapting candidates in bold. The oracle is
 * labelled as a reference and shown at step 0 only: it does not adapt, and bolding it would
 * crown a policy that was given the answer.
 */
export function rlResultsHtml(e: PolicyEvalReport, config: Record<string, unknown>): string {
  const steps = tableSteps(e);
  const last = steps[steps.length - 1];
  const adapting = e.results.filter((r) => !isReference(r, last));
  const best = Math.max(...adapting.map((r) => at(r.episodeReturn, last)?.mean ?? -Infinity));
  // The paired gain column when the evaluator reported changes from step 0 (and there was adaptation).
  const paired = last > 0 && adapting.some((r) => at(r.episodeReturn, last)?.changeCi95 !== undefined);
  const rows = e.results.map((r) => {
    const reference = isReference(r, last);
    const cells = [escapeHtml(reference ? referenceLabel(r.name) : r.name)];
    for (const s of steps) {
      const v = at(r.episodeReturn, s);
      const text = escapeHtml(reference && s !== 0 ? '—' : formatMeanCi(v?.mean, v?.ci95));
      cells.push(!reference && s === last && adapting.length > 1 && v?.mean === best ? `<b>${text}</b>` : text);
    }
    if (paired) {
      const v = at(r.episodeReturn, last);
      cells.push(escapeHtml(reference || v?.changeMean === undefined ? '—' : `${v.changeMean >= 0 ? '+' : ''}${formatMeanCi(v.changeMean, v.changeCi95)}`));
    }
    return cells;
  });
  const fromConfig = (path: string) => configValue(config, path);
  const protocol = [
    `${e.numTasks ?? fromConfig('evaluation.tasks') ?? '?'} evaluation tasks`,
    `${e.episodesPerTask ?? fromConfig('evaluation.episodesPerTask') ?? '?'} episodes per task`,
    `horizon ${e.horizon ?? fromConfig('meta.horizon') ?? '?'}`,
    `${e.maxSteps ?? last} adaptation steps`,
    `inner learning rate ${formatNumber(e.learningRate ?? Number(fromConfig('inner.learningRate')))}`,
    e.seconds !== undefined ? `evaluated in ${formatDuration(e.seconds)}` : undefined,
    e.backend ? `backend ${e.backend}` : undefined,
  ].filter(Boolean);
  const head = ['candidate', ...steps.map((s) => `return, step ${s}`), ...(paired ? [`gain, step 0 → ${last} (paired)`] : [])];
  const pairedNote = paired ? ` Gain: mean over tasks of (return after ${last} step${last === 1 ? '' : 's'} − return before) on the same task, ± its 95% CI (paired, so free of the spread between tasks).` : '';
  const oracle = e.results.some((r) => isReference(r, last)) ? ' The oracle observes the task parameters and does not adapt: a reference, not a contender.' : '';
  return `<h2>Results (eval.json)</h2>
${table([head.map(escapeHtml), ...rows], 'results')}
<p class="subtitle">Mean undiscounted episode return ± 95% CI over tasks (higher is better).${oracle}${pairedNote} Protocol: ${escapeHtml(protocol.join(' · '))}.</p>`;
}
