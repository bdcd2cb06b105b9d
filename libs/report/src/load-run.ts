import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ChameleonError, invalidArgument, notFound } from '@chameleon/core';
import { FileEntry, listRunFiles } from './files';
import { MetricsSummary, summariseMetrics } from './metrics';
import { SelectedTrace, selectWaterfallTrace } from './traces';
import type { JsonlStats } from './jsonl';
import { configKind, parseEvaluation, RunKind } from './run-kind';
import type { EvalReport, PolicyEvalReport, RunInfo } from './types';

/** The files a run folder may hold, and what the page loses without each. */
export const RUN_FILES = {
  config: { file: 'config.json', without: 'required: the run configuration' },
  run: { file: 'run.json', without: 'no machine, wall time or state in the header' },
  metrics: { file: 'metrics.jsonl', without: 'no training or validation curves' },
  evaluation: { file: 'eval.json', without: 'no results table, adaptation curves or example tasks' },
  traces: { file: 'traces.jsonl', without: 'no waterfall of a meta-iteration' },
} as const;

/** Everything the page shows, read once from the folder. Absent parts are undefined. */
export interface RunData {
  dir: string;
  config: Record<string, unknown>;
  /** "rl" when config.json or eval.json says `kind: "rl"`: the page then shows returns, not losses. */
  kind: RunKind;
  run?: RunInfo;
  metrics?: MetricsSummary;
  /** A supervised eval.json. */
  evaluation?: EvalReport;
  /** An RL eval.json (episode returns, observation paths). */
  policyEvaluation?: PolicyEvalReport;
  traces?: { selected?: SelectedTrace; stats: JsonlStats };
  files: FileEntry[];
  moreFiles: number;
  /** Optional files that are absent, with what that costs the page. */
  missing: { file: string; without: string }[];
  /** Files that exist but could not be (fully) read. */
  problems: string[];
}

async function readJsonFile(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

function describeBadLines(file: string, stats: JsonlStats): string | undefined {
  if (stats.badCount === 0) return undefined;
  const more = stats.badCount > stats.badLines.length ? ', …' : '';
  return `${file}: skipped ${stats.badCount} line(s) that are not JSON objects (line ${stats.badLines.join(', ')}${more})`;
}

/**
 * Reads a run folder. Throws NOT_FOUND when the folder or its config.json is absent (it is
 * then not a run folder); every other file is optional and its absence is recorded.
 */
export async function loadRun(dir: string, exclude: readonly string[] = []): Promise<RunData> {
  const s = await stat(dir).catch(() => undefined);
  if (!s) throw notFound(`run folder ${dir} does not exist (pass the folder a training run wrote, e.g. runs/<name>)`);
  if (!s.isDirectory()) throw invalidArgument('runDir', `${dir} is a file, not a run folder`);
  const configPath = join(dir, RUN_FILES.config.file);
  if (!existsSync(configPath)) throw notFound(`${dir} is not a run folder: it has no config.json (every run writes it first)`);
  let config: Record<string, unknown>;
  try {
    config = (await readJsonFile(configPath)) as Record<string, unknown>;
  } catch (e) {
    throw new ChameleonError('INVALID_ARGUMENT', `${configPath} is not valid JSON: ${(e as Error).message}`, 'config.json');
  }

  const data: RunData = { dir, config, kind: configKind(config), files: [], moreFiles: 0, missing: [], problems: [] };
  const present = (key: keyof typeof RUN_FILES): string | undefined => {
    const path = join(dir, RUN_FILES[key].file);
    if (existsSync(path)) return path;
    data.missing.push({ ...RUN_FILES[key] });
    return undefined;
  };
  const attempt = async <T>(file: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (e) {
      data.problems.push(`${file}: could not be read (${(e as Error).message})`);
      return undefined;
    }
  };

  const runPath = present('run');
  if (runPath) data.run = await attempt('run.json', async () => (await readJsonFile(runPath)) as RunInfo);
  const evalPath = present('evaluation');
  if (evalPath) {
    const parsed = await attempt('eval.json', async () => parseEvaluation(await readJsonFile(evalPath), data.kind));
    if (parsed?.kind === 'rl') {
      data.kind = 'rl';
      data.policyEvaluation = parsed.report;
    } else if (parsed) data.evaluation = parsed.report;
  }
  const metricsPath = present('metrics');
  if (metricsPath) data.metrics = await attempt('metrics.jsonl', () => summariseMetrics(metricsPath));
  const tracesPath = present('traces');
  // RL: show a meta-train iteration (rollouts, adaptation, meta-step), not a later baseline one.
  const preferPhase = data.kind === 'rl' ? 'meta-train' : undefined;
  if (tracesPath) data.traces = await attempt('traces.jsonl', () => selectWaterfallTrace(tracesPath, preferPhase));

  for (const [file, stats] of [
    ['metrics.jsonl', data.metrics?.stats],
    ['traces.jsonl', data.traces?.stats],
  ] as const) {
    const note = stats && describeBadLines(file, stats);
    if (note) data.problems.push(note);
  }
  const listing = await listRunFiles(dir, exclude);
  data.files = listing.files;
  data.moreFiles = listing.more;
  return data;
}
