/**
 * The files a training run writes into its folder, as the report reads them. Every field a
 * producer may omit is optional here: the report shows what exists and names what is missing.
 */

/** `run.json`: where and how long the run ran. */
export interface RunInfo {
  runId?: string;
  backend?: string;
  machine?: { cpus?: number; cpuModel?: string; platform?: string; node?: string; memoryGiB?: number };
  startedAt?: string;
  finishedAt?: string;
  wallSeconds?: number;
  state?: string;
}

/** Mean over evaluation tasks at one adaptation step, with the 95% CI half-width. */
export interface StepStat {
  step: number;
  mean: number;
  ci95: number;
  std?: number;
  /** Paired change from step 0 on the same tasks, with its 95% CI (newer evaluations only). */
  changeMean?: number;
  changeCi95?: number;
}

/** One candidate (e.g. "maml", "pretrained", "random-init") evaluated at every step. */
export interface CandidateResult {
  name: string;
  loss: StepStat[];
  accuracy?: StepStat[];
}

/** `metrics.jsonl` line of type "progress". */
export interface ProgressEvent {
  type: 'progress';
  phase: string;
  iteration: number;
  total?: number;
  metaLoss?: number;
  preAdaptationLoss?: number;
  /** RL runs: mean undiscounted episode return before / after the inner adaptation step. */
  preAdaptationReturn?: number;
  postAdaptationReturn?: number;
  itPerSec?: number;
  phaseSeconds?: Record<string, number>;
  traceId?: string;
  elapsed?: number;
}

/** `metrics.jsonl` line of type "validation". */
export interface ValidationEvent {
  type: 'validation';
  iteration: number;
  results: CandidateResult[];
}

/** `metrics.jsonl` line of type "checkpoint". */
export interface CheckpointEvent {
  type: 'checkpoint';
  path: string;
  iteration: number;
  phase?: string;
}

/** One evaluation task kept for plotting: support set, true curve, predictions on the grid. */
export interface EvalExample {
  taskId: string;
  params?: Record<string, number>;
  support: { x: number[]; y: number[] };
  grid: { x: number[]; y: number[] };
  /** Keyed "<candidate>/step<k>", values on `grid.x`. */
  predictions: Record<string, number[]>;
}

/** `eval.json`: the final evaluation protocol and its results. */
export interface EvalReport {
  backend?: string;
  numTasks?: number;
  shots?: number;
  querySize?: number;
  maxSteps?: number;
  learningRate?: number;
  seconds?: number;
  results: CandidateResult[];
  examples?: EvalExample[];
}

/** One line of `traces.jsonl` (an OpenTelemetry span, flattened). */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind?: string;
  service: string;
  startUnixNano: string;
  endUnixNano: string;
  durationMs?: number;
  attributes?: Record<string, unknown>;
  status?: { code: number };
}

/** One policy candidate of an RL evaluation: mean episode return over tasks per adaptation step. */
export interface PolicyCandidateResult {
  name: string;
  episodeReturn: StepStat[];
}

/** One evaluation task's observation paths: "<candidate>/step<k>" → [episode][t][observation dim]. */
export interface PolicyTaskPaths {
  taskId: string;
  /** Task parameters as sampled, e.g. `{ goal: [x, y] }` or `{ velocity: 1.2 }`. */
  params?: Record<string, unknown>;
  paths: Record<string, number[][][]>;
}

/** `eval.json` of an RL run (`kind: "rl"`, see PolicyEvaluationJson in @chameleon/transport). */
export interface PolicyEvalReport {
  kind: 'rl';
  backend?: string;
  numTasks?: number;
  episodesPerTask?: number;
  horizon?: number;
  maxSteps?: number;
  learningRate?: number;
  seconds?: number;
  results: PolicyCandidateResult[];
  paths?: PolicyTaskPaths[];
}
