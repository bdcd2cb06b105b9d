import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyCandidateResult, PolicyEvalReport, PolicyTaskPaths, SpanRecord } from '../types';

/** Synthetic RL run folders (2D navigation by default) for the tests and for looking at a page. */
export interface RlFixtureOptions {
  /** config.json task.family; "halfcheetah-vel" gives 17-dim observations and `{ velocity }` tasks. */
  family?: string;
  metaIterations?: number;
  baselineIterations?: number;
  /** Write config.json without `kind: "rl"` (eval.json alone must then make it RL). */
  configKind?: boolean;
  files?: { run?: boolean; metrics?: boolean; eval?: boolean; traces?: boolean };
  /** eval.json carries the paired change from step 0 (change = mean difference, CI = ci95 / 4), as newer evaluators write. */
  paired?: boolean;
}

/** Known returns [mean, ci95] at steps 0..3, so tests can read the results table. */
export const RL_FIXTURE_RETURNS: Record<string, [number, number][]> = {
  'maml-trpo': [[-70.6247, 7.432], [-21.4321, 3.1234], [-15.2, 2.5], [-12.3456, 1.9876]],
  pretrained: [[-36.5997, 6.5554], [-31.6279, 5.9352], [-27.0, 5.4], [-22.5358, 4.8872]],
  'random-init': [[-117.1927, 9.7968], [-118.3647, 7.6181], [-104.7, 5.4], [-106.7956, 7.469]],
  oracle: [[-7.0806, 0.8138]],
};
export const RL_FIXTURE_STEPS = 3;
/** Tasks with paths in eval.json (one more than the report draws). */
export const RL_FIXTURE_PATH_TASKS = 5;
const EPISODES = 3;
const HORIZON = 40;

function results(paired = false): PolicyCandidateResult[] {
  return Object.entries(RL_FIXTURE_RETURNS).map(([name, pts]) => ({
    name,
    episodeReturn: pts.map(([mean, ci95], step) => ({ step, mean, ci95, std: ci95 * 2.3, ...(paired ? { changeMean: mean - pts[0][0], changeCi95: step === 0 ? 0 : ci95 / 4 } : {}) })),
  }));
}

/** A point walking from the origin towards `towards` (0: aimless, 1: straight to the goal), padded after it arrives. */
function walk(goal: [number, number], towards: number, seed: number): number[][] {
  const out: number[][] = [[0, 0]];
  let [x, y] = [0, 0];
  for (let t = 1; t < HORIZON; t++) {
    const arrived = Math.hypot(goal[0] - x, goal[1] - y) < 0.02;
    if (!arrived) {
      const a = Math.sin(seed * 12.9898 + t * 78.233) * Math.PI;
      x += 0.05 * ((1 - towards) * Math.cos(a) + towards * Math.sign(goal[0] - x) * Math.min(1, Math.abs(goal[0] - x) / 0.05));
      y += 0.05 * ((1 - towards) * Math.sin(a) + towards * Math.sign(goal[1] - y) * Math.min(1, Math.abs(goal[1] - y) / 0.05));
    }
    out.push([x, y]);
  }
  return out;
}

function taskPaths(i: number, family: string): PolicyTaskPaths {
  const goal: [number, number] = [0.45 * Math.cos(i * 1.7), 0.45 * Math.sin(i * 1.7)];
  const navigation = family === '2d-navigation';
  const params: Record<string, unknown> = navigation ? { goal } : { velocity: 0.4 * (i + 1) };
  const dims = navigation ? 2 : 17;
  const episodes = (towards: number, extra = 0) =>
    Array.from({ length: EPISODES }, (_, e) => walk(goal, towards, i * 10 + e).map((p) => [...p, ...Array.from({ length: dims - 2 + extra }, () => 0.1)]));
  const paths: Record<string, number[][][]> = {};
  for (let k = 0; k <= RL_FIXTURE_STEPS; k++) {
    paths[`maml-trpo/step${k}`] = episodes([0, 0.8, 0.9, 0.97][k]);
    paths[`pretrained/step${k}`] = episodes(0.2 + 0.1 * k);
    paths[`random-init/step${k}`] = episodes(0.05 * k);
  }
  paths['oracle/step0'] = episodes(1, navigation ? 2 : 1); // the oracle observes the task too
  return { taskId: `${i}e4f09a1c7b3d2${i}8`, params, paths };
}

function span(traceId: string, spanId: string, parent: string | null, name: string, service: string, start: number, end: number, t0: bigint, phase: string): SpanRecord {
  const ns = (ms: number) => (t0 + BigInt(Math.round(ms * 1e6))).toString();
  const attributes = parent ? {} : { 'chameleon.iteration': 1, 'chameleon.phase': phase };
  return { traceId, spanId, parentSpanId: parent, name, service, startUnixNano: ns(start), endUnixNano: ns(end), durationMs: end - start, attributes, status: { code: 0 } };
}

/** One RL meta-iteration: rollouts before, adaptation, rollouts after, the TRPO meta-step. */
function rlIteration(traceId: string, t0: bigint): SpanRecord[] {
  const s = (id: string, parent: string | null, name: string, service: string, a: number, b: number) => span(traceId, `${traceId}-${id}`, parent && `${traceId}-${parent}`, name, service, a, b, t0, 'meta-train');
  return [
    s('root', null, 'meta_iteration', 'meta-optimiser', 0, 100),
    s('pre', 'root', 'rollouts_pre', 'meta-optimiser', 1, 30),
    s('pre-rpc', 'pre', 'grpc.chameleon.v1.EnvironmentSimulatorService/StreamRollouts', 'environment-simulator', 2, 29),
    s('adapt', 'root', 'adapt', 'meta-optimiser', 30, 40),
    s('adapt-rpc', 'adapt', 'grpc.chameleon.v1.LearnerService/AdaptPolicy', 'learner', 31, 39),
    s('post', 'root', 'rollouts_post', 'meta-optimiser', 40, 70),
    s('meta', 'root', 'meta_gradient', 'meta-optimiser', 70, 99),
    s('meta-rpc', 'meta', 'grpc.chameleon.v1.LearnerService/PolicyMetaStep', 'learner', 71, 98),
  ];
}

/** A later baseline (TRPO) iteration reaching the same services, without adaptation. */
function baselineIteration(traceId: string, t0: bigint): SpanRecord[] {
  const s = (id: string, parent: string | null, name: string, service: string, a: number, b: number) => span(traceId, `${traceId}-${id}`, parent && `${traceId}-${parent}`, name, service, a, b, t0, 'baseline');
  return [
    s('root', null, 'meta_iteration', 'meta-optimiser', 0, 50),
    s('pre', 'root', 'rollouts_pre', 'meta-optimiser', 1, 30),
    s('pre-rpc', 'pre', 'grpc.chameleon.v1.EnvironmentSimulatorService/StreamRollouts', 'environment-simulator', 2, 29),
    s('meta-rpc', 'root', 'grpc.chameleon.v1.LearnerService/PolicyMetaStep', 'learner', 31, 49),
  ];
}

/** Writes an RL run folder shaped like apps/meta-optimiser's RlRun output; each file can be left out. */
export function writeRlRunFixture(dir: string, o: RlFixtureOptions = {}): void {
  const family = o.family ?? '2d-navigation';
  const files = { run: true, metrics: true, eval: true, traces: true, ...o.files };
  const n = o.metaIterations ?? 50;
  const nb = o.baselineIterations ?? 30;
  mkdirSync(dir, { recursive: true });
  const config = {
    ...(o.configKind === false ? {} : { kind: 'rl' }),
    name: `${family}-maml-trpo-fixture`,
    task: { family, config: {} },
    policy: { architecture: 'gaussian-mlp', config: { hidden: [64, 64], activation: 'tanh' } },
    algorithm: { name: 'maml-trpo', config: {} },
    inner: { steps: 1, learningRate: 0.1, discount: 0.99, gaeLambda: 1 },
    meta: { iterations: n, batchSize: 20, episodesPerTask: 10, horizon: HORIZON },
    baseline: { iterations: nb, oracleIterations: nb },
    evaluation: { enabled: true, tasks: 20, episodesPerTask: 10, steps: RL_FIXTURE_STEPS, paths: RL_FIXTURE_PATH_TASKS, seed: 7 },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  if (files.run) {
    const run = { runId: 'rl-run-0001', kind: 'rl', backend: 'wasm', machine: { cpus: 2, cpuModel: 'Test CPU' }, wallSeconds: 915, state: 'RUN_STATE_COMPLETED' };
    writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
  }
  if (files.metrics) {
    const lines: string[] = [];
    const progress = (phase: string, i: number, total: number, pre: number, post: number, phaseSeconds: Record<string, number>, elapsed: number) =>
      JSON.stringify({ type: 'progress', phase, iteration: i, total, metaLoss: -post, preAdaptationLoss: -pre, preAdaptationReturn: pre, postAdaptationReturn: post, itPerSec: 0.5, phaseSeconds, traceId: `${phase}-${i}`, elapsed });
    const metaSeconds = { sample_tasks: 0.01, rollouts_pre: 1.1, adapt: 0.5, rollouts_post: 1.2, meta_gradient: 2.5, meta_update: 0.001 };
    for (let i = 1; i <= n; i++) lines.push(progress('meta-train', i, n, -110 + 40 * (i / n), -105 + 90 * (i / n), metaSeconds, 2 * i));
    lines.push('{"type":"progress","phase":"meta-tr'); // a write cut short by a crash
    for (const phase of ['baseline', 'oracle']) {
      for (let i = 1; i <= nb; i++) {
        const r = (phase === 'oracle' ? -7 : -36) - 80 / i;
        lines.push(progress(phase, i, nb, r, r, { sample_tasks: 0.01, rollouts_pre: 1, meta_gradient: 2 }, 2 * n + i));
      }
    }
    lines.push(JSON.stringify({ type: 'checkpoint', path: join(dir, 'checkpoint.ckpt'), iteration: n, phase: 'done' }));
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  }
  if (files.eval) {
    const e: PolicyEvalReport = {
      kind: 'rl',
      backend: 'wasm',
      numTasks: 20,
      episodesPerTask: 10,
      horizon: HORIZON,
      maxSteps: RL_FIXTURE_STEPS,
      learningRate: 0.1,
      seconds: 18.2,
      results: results(o.paired),
      paths: Array.from({ length: RL_FIXTURE_PATH_TASKS }, (_, i) => taskPaths(i, family)),
    };
    writeFileSync(join(dir, 'eval.json'), JSON.stringify(e));
  }
  if (files.traces) {
    const base = 1767225600000000000n;
    const spans = [0, 1].flatMap((k) => rlIteration(`rl-trace-${k}`, base + BigInt(k) * 200_000_000n));
    spans.push(...baselineIteration('rl-baseline-trace', base + 600_000_000n));
    writeFileSync(join(dir, 'traces.jsonl'), spans.map((s) => JSON.stringify(s)).join('\n') + '\n');
  }
}
