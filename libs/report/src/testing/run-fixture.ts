import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CandidateResult, EvalExample, EvalReport, SpanRecord } from '../types';

/** Synthetic run folders for the tests (and for looking at a page by eye). */
export interface FixtureOptions {
  progressLines?: number;
  baselineLines?: number;
  validationEvery?: number;
  withAccuracy?: boolean;
  files?: { run?: boolean; metrics?: boolean; eval?: boolean; traces?: boolean };
}

/** Loss curve of a candidate: known values at steps 0, 1 and 10 so tests can read the table. */
export const FIXTURE_LOSS: Record<string, [number, number][]> = {
  maml: [[3.2104, 0.1523], [0.5123, 0.0312], [0.1234, 0.0101]],
  pretrained: [[2.9871, 0.1402], [2.1045, 0.1187], [1.5012, 0.0923]],
  'random-init': [[4.1032, 0.2101], [3.8021, 0.1999], [3.0117, 0.1712]],
};
export const FIXTURE_STEPS = 10;
/** The meta_iteration trace with the most services (4), and two 3-service ones tied. */
export const BEST_TRACE_ID = 'trace-iter-0007-four-services';
export const TIED_TRACE_IDS = ['trace-iter-0005-three', 'trace-iter-0009-three'];

function curve(points: [number, number][]): { step: number; mean: number; ci95: number; std: number }[] {
  const [[m0, c0], [m1, c1], [mk, ck]] = points;
  return Array.from({ length: FIXTURE_STEPS + 1 }, (_, step) => {
    if (step === 0) return { step, mean: m0, ci95: c0, std: c0 * 5 };
    if (step === 1) return { step, mean: m1, ci95: c1, std: c1 * 5 };
    if (step === FIXTURE_STEPS) return { step, mean: mk, ci95: ck, std: ck * 5 };
    const f = (step - 1) / (FIXTURE_STEPS - 1);
    const mean = m1 * Math.pow(mk / m1, f);
    const ci = c1 + (ck - c1) * f;
    return { step, mean, ci95: ci, std: ci * 5 };
  });
}

function results(withAccuracy: boolean): CandidateResult[] {
  return Object.entries(FIXTURE_LOSS).map(([name, pts]) => ({
    name,
    loss: curve(pts),
    accuracy: withAccuracy ? curve(pts).map((s) => ({ ...s, mean: Math.min(0.99, 0.2 + 0.6 / (1 + s.mean)), ci95: 0.02 })) : [],
  }));
}

function example(i: number): EvalExample {
  const amplitude = 1 + i * 1.3;
  const phase = 0.4 + i * 0.9;
  const f = (x: number) => amplitude * Math.sin(x - phase);
  const gx = Array.from({ length: 100 }, (_, j) => -5 + (10 * j) / 99);
  const sx = [-4.1, -2.2, 0.3, 1.9, 3.7].map((x) => x + i * 0.2);
  const towards = (k: number) => gx.map((x) => (1 - k) * 0.2 * Math.sin(x) + k * f(x));
  return {
    taskId: `task-${i}`,
    params: { amplitude, phase },
    support: { x: sx, y: sx.map(f) },
    grid: { x: gx, y: gx.map(f) },
    predictions: {
      'maml/step0': towards(0),
      'maml/step1': towards(0.8),
      'maml/step10': towards(0.97),
      'pretrained/step0': gx.map(() => 0.1),
      'pretrained/step10': towards(0.4),
      'random-init/step10': towards(0.1),
    },
  };
}

const SERVICES = ['meta-optimiser', 'task-sampler', 'learner', 'environment-simulator'];

/** Spans of one meta-iteration touching the first `services` services. */
function iterationSpans(traceId: string, iteration: number, services: number, t0: bigint): SpanRecord[] {
  const ms = (x: number) => (t0 + BigInt(Math.round(x * 1e6))).toString();
  const span = (spanId: string, parent: string | null, name: string, service: string, start: number, end: number): SpanRecord => ({
    traceId,
    spanId,
    parentSpanId: parent,
    name,
    kind: parent ? 'INTERNAL' : 'SERVER',
    service,
    startUnixNano: ms(start),
    endUnixNano: ms(end),
    durationMs: end - start,
    attributes: parent ? {} : { 'chameleon.iteration': iteration },
    status: { code: 0 },
  });
  const out = [span(`${traceId}-root`, null, 'meta_iteration', SERVICES[0], 0, 40)];
  out.push(span(`${traceId}-s1`, `${traceId}-root`, 'sample_tasks', SERVICES[0], 0.5, 4));
  for (let k = 1; k < services; k++) {
    out.push(span(`${traceId}-c${k}`, `${traceId}-root`, `rpc/${SERVICES[k]}`, SERVICES[0], 4 + k * 6, 9 + k * 6));
    out.push(span(`${traceId}-h${k}`, `${traceId}-c${k}`, `handle/${SERVICES[k]}`, SERVICES[k], 4.5 + k * 6, 8.5 + k * 6));
  }
  out.push(span(`${traceId}-u`, `${traceId}-root`, 'meta_update', SERVICES[0], 34, 39.5));
  return out;
}

/** Writes a run folder; each file can be left out. Returns nothing: read it with buildReport. */
export function writeRunFixture(dir: string, o: FixtureOptions = {}): void {
  const files = { run: true, metrics: true, eval: true, traces: true, ...o.files };
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  const config = { name: 'maml-sinusoid-fixture', algorithm: { name: 'maml', innerSteps: 1 }, task: { family: 'sinusoid' }, meta: { iterations: 2000 } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'checkpoints', 'iter-2000.ckpt'), 'x'.repeat(2048));
  if (files.run) {
    const run = {
      runId: 'run-0001',
      backend: 'wasm',
      machine: { cpus: 2, cpuModel: 'Test CPU', platform: 'linux', node: 'v20.20.2', memoryGiB: 8 },
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:12:05.000Z',
      wallSeconds: 725,
      state: 'SUCCEEDED',
    };
    writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
  }
  if (files.metrics) {
    const n = o.progressLines ?? 2000;
    const lines: string[] = [];
    for (let i = 1; i <= (o.baselineLines ?? 300); i++) {
      lines.push(JSON.stringify({ type: 'progress', phase: 'baseline', iteration: i, total: 300, metaLoss: 3 / Math.sqrt(i), preAdaptationLoss: 3 / Math.sqrt(i), itPerSec: 80, elapsed: i / 80 }));
    }
    for (let i = 1; i <= n; i++) {
      const phaseSeconds = { sample_tasks: 0.002, fetch_data: 0.004, meta_gradient: 0.012, meta_update: 0.002 };
      const metaLoss = 0.1 + 2.5 / Math.sqrt(i) + 0.05 * Math.sin(i);
      lines.push(JSON.stringify({ type: 'progress', phase: 'meta-train', iteration: i, total: n, metaLoss, preAdaptationLoss: metaLoss * 3 + 1, itPerSec: 45 + 5 * Math.sin(i / 50), phaseSeconds, traceId: `t${i}`, elapsed: 4 + i / 45 }));
      if (i === Math.floor(n / 2)) lines.push('{"type":"progress","phase":"meta-tr'); // a write cut short by a crash
      if (i % (o.validationEvery ?? 250) === 0) {
        const scale = 1 + 2000 / (i + 200);
        const r = results(false).map((c) => ({ name: c.name, loss: c.loss.map((s) => ({ ...s, mean: s.mean * scale })), accuracy: [] }));
        lines.push(JSON.stringify({ type: 'validation', iteration: i, results: r }));
      }
      if (i % 1000 === 0) lines.push(JSON.stringify({ type: 'checkpoint', path: `checkpoints/iter-${i}.ckpt`, iteration: i, phase: 'meta-train' }));
    }
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  }
  if (files.eval) {
    const e: EvalReport = {
      backend: 'wasm',
      numTasks: 600,
      shots: 5,
      querySize: 50,
      maxSteps: FIXTURE_STEPS,
      learningRate: 0.01,
      seconds: 42.5,
      results: results(o.withAccuracy ?? false),
      examples: [0, 1, 2, 3, 4].map(example),
    };
    writeFileSync(join(dir, 'eval.json'), JSON.stringify(e));
  }
  if (files.traces) {
    const base = 1767225600000000000n;
    const spans: SpanRecord[] = [];
    const plan: [string, number][] = [
      ['trace-iter-0001-two', 2],
      ['trace-iter-0003-two', 2],
      ['trace-iter-0005-three', 3],
      [BEST_TRACE_ID, 4],
      ['trace-iter-0009-three', 3],
    ];
    plan.forEach(([id, services], k) => spans.push(...iterationSpans(id, 2 * k + 1, services, base + BigInt(k) * 100_000_000n)));
    // A non-iteration trace touching every service and more: never a candidate.
    spans.push(...iterationSpans('trace-health-check', 0, 4, base).map((s) => ({ ...s, name: s.name === 'meta_iteration' ? 'health' : s.name, service: `${s.service}-x` })));
    // Spans are written when they end: children before parents, traces interleaved.
    spans.sort((a, b) => (BigInt(a.endUnixNano) < BigInt(b.endUnixNano) ? -1 : 1));
    const lines = spans.map((s) => JSON.stringify(s));
    lines.splice(3, 0, 'not json at all');
    writeFileSync(join(dir, 'traces.jsonl'), lines.join('\n') + '\n');
  }
}
