import { basename } from 'node:path';
import { escapeHtml, table } from '../html';
import { formatDuration, formatMeanCi, formatNumber } from '../format';
import type { RunData } from '../load-run';
import type { CandidateResult, EvalReport, StepStat } from '../types';
import { configValue } from './config-value';
import { rlFacts, rlResultsHtml } from './rl-results';

export { configValue };

export function runTitle(data: RunData, title?: string): string {
  return title ?? configValue(data.config, 'name') ?? basename(data.dir);
}

function machine(data: RunData): string | undefined {
  const m = data.run?.machine;
  if (!m) return undefined;
  const parts = [
    m.cpus !== undefined ? `${m.cpus} × ${m.cpuModel ?? 'CPU'}` : m.cpuModel,
    m.memoryGiB !== undefined ? `${formatNumber(m.memoryGiB)} GiB` : undefined,
    m.platform,
    m.node ? `Node ${m.node.replace(/^v/, '')}` : undefined,
  ];
  return parts.filter(Boolean).join(', ');
}

/** Title, the facts of the run, the results table and the config. */
export function headerHtml(data: RunData, title?: string): string {
  const c = data.config;
  const facts: [string, string | undefined][] = [
    ['Run', configValue(c, 'name')],
    ['Algorithm', configValue(c, 'algorithm.name')],
    ['Task family', configValue(c, 'task.family')],
    ['Meta-iterations', configValue(c, 'meta.iterations')],
    ...(data.kind === 'rl' ? rlFacts(c) : []),
    ['Backend', data.run?.backend ?? data.evaluation?.backend ?? data.policyEvaluation?.backend],
    ['State', data.run?.state],
    ['Machine', machine(data)],
    ['Wall time', data.run?.wallSeconds !== undefined ? formatDuration(data.run.wallSeconds) : undefined],
    ['Started', data.run?.startedAt],
    ['Finished', data.run?.finishedAt],
    ['Run id', data.run?.runId],
    ['Folder', data.dir],
  ];
  const dl = facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v ?? '—')}</dd>`).join('');
  return `<header>
<h1>${escapeHtml(runTitle(data, title))}</h1>
<p class="subtitle">Chameleon ${data.kind === 'rl' ? 'meta-RL ' : ''}training run report</p>
<dl class="facts">${dl}</dl>
${results(data)}
<details><summary>Configuration (config.json)</summary><pre>${escapeHtml(JSON.stringify(c, null, 2))}</pre></details>
</header>`;
}

function results(data: RunData): string {
  if (data.policyEvaluation) return rlResultsHtml(data.policyEvaluation, data.config);
  return data.evaluation ? resultsHtml(data.evaluation) : '';
}

const at = (stats: readonly StepStat[] | undefined, step: number) => stats?.find((s) => s.step === step);

/** The steps the table shows: 0, 1 and the last one, without repeats. */
export function tableSteps(results: readonly CandidateResult[]): number[] {
  const all = results.flatMap((r) => r.loss.map((s) => s.step)).filter(Number.isFinite);
  const last = all.length ? Math.max(...all) : 0;
  return [...new Set([0, 1, last])].filter((s) => s <= last);
}

/** Results table: per candidate, mean ± 95% CI at steps 0, 1, last; best last-step loss in bold. */
export function resultsHtml(e: EvalReport): string {
  const steps = tableSteps(e.results);
  const withAccuracy = e.results.some((r) => (r.accuracy ?? []).length > 0);
  const last = steps[steps.length - 1];
  const lastLosses = e.results.map((r) => at(r.loss, last)?.mean ?? Infinity);
  const best = Math.min(...lastLosses);
  const head = ['candidate', ...steps.map((s) => `loss, step ${s}`)];
  if (withAccuracy) head.push(...steps.map((s) => `accuracy, step ${s}`));
  const rows = e.results.map((r, i) => {
    const cells = [escapeHtml(r.name)];
    for (const s of steps) {
      const v = at(r.loss, s);
      const text = escapeHtml(formatMeanCi(v?.mean, v?.ci95));
      cells.push(s === last && lastLosses[i] === best && e.results.length > 1 ? `<b>${text}</b>` : text);
    }
    if (withAccuracy) for (const s of steps) cells.push(escapeHtml(formatMeanCi(at(r.accuracy, s)?.mean, at(r.accuracy, s)?.ci95)));
    return cells;
  });
  const protocol = [
    `${e.numTasks ?? '?'} evaluation tasks`,
    `K = ${e.shots ?? '?'} shots`,
    `query size ${e.querySize ?? '?'}`,
    `${e.maxSteps ?? last} adaptation steps`,
    `learning rate ${formatNumber(e.learningRate)}`,
    e.seconds !== undefined ? `evaluated in ${formatDuration(e.seconds)}` : undefined,
    e.backend ? `backend ${e.backend}` : undefined,
  ].filter(Boolean);
  return `<h2>Results (eval.json)</h2>
${table([head.map(escapeHtml), ...rows], 'results')}
<p class="subtitle">Query loss (and accuracy) mean ± 95% CI over tasks. Protocol: ${escapeHtml(protocol.join(' · '))}.</p>`;
}
