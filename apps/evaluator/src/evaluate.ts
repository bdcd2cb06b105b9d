import { check, float32, stepMetrics, resourceExhausted, type HostTensor } from '@chameleon/core';
import type { FunctionalModel } from '@chameleon/nn';
import type { PluginRegistry } from '@chameleon/plugins';
import {
  LossKind,
  type Candidate,
  type CandidateResult,
  type EvaluateRequest,
  type EvaluateResponse,
  type ExampleTask,
  type InnerLoop,
  type NamedTensor,
  type Parameters,
  type Tensor,
  type TaskSpec,
} from '@chameleon/proto';
import { fromWire, paramsToWire, toWire } from '@chameleon/tensor';
import { splitFromWire, splitToWire, type CallContext, type Peers } from '@chameleon/transport';

export const MAX_EVAL_TASKS = 100_000;
const DEFAULT_CHUNK = 100;
/**
 * Input elements (support + query, all tasks) per adaptation chunk when the request leaves
 * chunk_size at 0. Image models keep every task's activations on the gradient tape during
 * adaptation: 100 Omniglot episodes at once exhaust the wasm heap, 17 (5-way) or 6 (20-way) do not.
 */
const CHUNK_INPUT_ELEMENTS = 400_000;
const GRID_POINTS = 100;

interface Scored {
  name: string;
  params: Parameters;
  algorithm: string;
  /** The algorithm's config, sent with every Adapt call (CAVIA's context size, iMAML's lambda, ...). */
  algorithmConfig?: Record<string, unknown>;
  losses: Float32Array[]; // per step: values over tasks
  accuracies: Float32Array[];
}

/** Entry i of the leading axis of a wire tensor, without that axis. */
function row(t: Tensor | undefined, i: number): Tensor {
  const h = fromWire(t, 'tensor');
  const per = h.data.length / h.shape[0];
  const data = (h.data as Float32Array).slice(i * per, (i + 1) * per);
  return toWire({ dtype: h.dtype, shape: h.shape.slice(1), data } as HostTensor);
}

/**
 * Evaluates candidates on the same held-out tasks and data: for every task, adapt from each
 * candidate's parameters for 0..max_steps steps and measure the query loss (and accuracy).
 * Every candidate sees exactly the same support and query sets.
 */
export async function evaluate(req: EvaluateRequest, peers: Peers, registry: PluginRegistry, ctx: CallContext): Promise<EvaluateResponse> {
  const started = Date.now();
  check(req.family, 'family', 'is required');
  check(req.numTasks >= 1, 'num_tasks', `must be >= 1, got ${req.numTasks}`);
  if (req.numTasks > MAX_EVAL_TASKS) throw resourceExhausted('num_tasks', `at most ${MAX_EVAL_TASKS}, got ${req.numTasks}`);
  check(req.shots >= 1, 'shots', `must be >= 1, got ${req.shots}`);
  check(req.querySize >= 1, 'query_size', `must be >= 1, got ${req.querySize}`);
  check(req.maxSteps <= 1000, 'max_steps', `must be <= 1000, got ${req.maxSteps}`);
  check(Number.isFinite(req.learningRate) && req.learningRate >= 0, 'learning_rate', `must be a finite number >= 0, got ${req.learningRate}`);
  check(req.candidates.length > 0 || req.includeRandomInit, 'candidates', 'give at least one candidate or set include_random_init');
  check(req.model?.architecture, 'model.architecture', 'is required (e.g. "mlp")');
  const model = registry.create<FunctionalModel>('model', req.model.architecture, req.model.config ?? {}, 'model.config');
  const names = new Set<string>();
  req.candidates.forEach((c, i) => {
    check(c.name, `candidates[${i}].name`, 'is required');
    check(!names.has(c.name), `candidates[${i}].name`, `"${c.name}" appears twice`);
    names.add(c.name);
    check(c.params, `candidates[${i}].params`, 'is required');
  });
  const candidates: Candidate[] = [...req.candidates];
  if (req.includeRandomInit) {
    const init = model.init(req.seed ^ 0x5eed);
    candidates.push({ name: 'random-init', algorithm: '', algorithmConfig: undefined, params: paramsToWire(model.spec.map((p) => p.name), model.spec.map((p) => p.shape), init) });
  }
  const split = splitFromWire(req.split, 'split', 'test');
  const tasks = await peers.sampleTasks({
    family: req.family,
    familyConfig: req.familyConfig,
    split: splitToWire(split),
    seed: req.seed,
    startIndex: 0,
    count: req.numTasks,
  });
  const chunk = req.chunkSize > 0 ? req.chunkSize : defaultChunk(model, req.shots + req.querySize);
  const inner: InnerLoop = { steps: req.maxSteps, learningRate: req.learningRate };
  const scored: Scored[] = candidates.map((c) => ({ name: c.name, params: c.params!, algorithm: c.algorithm, algorithmConfig: c.algorithmConfig, losses: [], accuracies: [] }));
  const perStep = (n: number) => Array.from({ length: req.maxSteps + 1 }, () => new Float32Array(n));
  for (const s of scored) {
    s.losses = perStep(tasks.length);
    s.accuracies = perStep(tasks.length);
  }
  let classification = false;
  for (let start = 0; start < tasks.length; start += chunk) {
    ctx.throwIfDone();
    const part = tasks.slice(start, start + chunk);
    const batch = await peers.sampleSupervised({ tasks: part, supportSize: req.shots, querySize: req.querySize, seed: req.seed, queryInputs: undefined, sourceConfig: undefined });
    for (const s of scored) {
      ctx.throwIfDone();
      const r = await peers.adapt({
        model: req.model,
        params: s.params,
        supportInputs: batch.supportInputs,
        supportTargets: batch.supportTargets,
        queryInputs: batch.queryInputs,
        queryTargets: batch.queryTargets,
        inner,
        loss: req.loss,
        returnParameters: false,
        algorithm: s.algorithm,
        algorithmConfig: s.algorithmConfig,
        predictionInputs: undefined,
      });
      const q = fromWire(r.queryLosses, 'query_losses', ['float32'] as const);
      const acc = r.queryAccuracies ? fromWire(r.queryAccuracies, 'query_accuracies', ['float32'] as const) : undefined;
      classification ||= !!acc;
      const steps = req.maxSteps + 1;
      for (let t = 0; t < part.length; t++) {
        for (let k = 0; k < steps; k++) {
          s.losses[k][start + t] = q.data[t * steps + k];
          if (acc) s.accuracies[k][start + t] = acc.data[t * steps + k];
        }
      }
    }
  }
  const results: CandidateResult[] = scored.map((s) => ({
    name: s.name,
    loss: stepMetrics(s.losses),
    accuracy: classification ? stepMetrics(s.accuracies) : [],
    episodeReturn: [],
  }));
  const examples = req.numExamples > 0 ? await exampleTasks(req, tasks.slice(0, req.numExamples), scored, peers, model, inner) : [];
  return { results, numTasks: tasks.length, backend: (await peers.describeLearner()).backend, examples, seconds: (Date.now() - started) / 1000 };
}

/** Tasks per adaptation call: 100, fewer when a task's inputs are large (images). */
export function defaultChunk(model: FunctionalModel, examplesPerTask: number): number {
  const perTask = examplesPerTask * model.inputShape.reduce((a, b) => a * b, 1);
  return Math.max(1, Math.min(DEFAULT_CHUNK, Math.floor(CHUNK_INPUT_ELEMENTS / perTask)));
}


/** Predictions on a grid over the input range, for 1-D inputs (plots of regression tasks). */
async function exampleTasks(req: EvaluateRequest, tasks: TaskSpec[], scored: Scored[], peers: Peers, model: FunctionalModel, inner: InnerLoop): Promise<ExampleTask[]> {
  if (model.inputShape.length !== 1 || model.inputShape[0] !== 1) return [];
  const env = (await peers.listEnvironments()).environments.find((e) => e.name === req.family);
  const lo = env?.inputSpec?.minimum ?? -5;
  const hi = env?.inputSpec?.maximum ?? 5;
  const grid = float32([GRID_POINTS, 1], Array.from({ length: GRID_POINTS }, (_, i) => lo + ((hi - lo) * i) / (GRID_POINTS - 1)));
  // Same seed as the evaluation, so the support points are the ones the metrics used.
  const batch = await peers.sampleSupervised({ tasks, supportSize: req.shots, querySize: 0, seed: req.seed, queryInputs: toWire(grid), sourceConfig: undefined });
  const T = tasks.length;
  const tiled = float32([T, GRID_POINTS, 1], Array.from({ length: T }, () => Array.from(grid.data)).flat());
  const predictionsBy: Array<{ name: string; values: HostTensor }> = [];
  for (const s of scored) {
    const r = await peers.adapt({
      model: req.model,
      params: s.params,
      supportInputs: batch.supportInputs,
      supportTargets: batch.supportTargets,
      queryInputs: undefined,
      queryTargets: undefined,
      inner,
      loss: req.loss === LossKind.LOSS_KIND_UNSPECIFIED ? LossKind.LOSS_KIND_MSE : req.loss,
      returnParameters: false,
      algorithm: s.algorithm,
      algorithmConfig: s.algorithmConfig,
      predictionInputs: toWire(tiled),
    });
    predictionsBy.push({ name: s.name, values: fromWire(r.predictions, 'predictions', ['float32'] as const) });
  }
  const keep = [...new Set([0, Math.min(1, inner.steps), inner.steps])];
  return tasks.map((task, t) => {
    const predictions: NamedTensor[] = [];
    for (const p of predictionsBy) {
      for (const k of keep) {
        const offset = (k * T + t) * GRID_POINTS;
        predictions.push({ name: `${p.name}/step${k}`, tensor: toWire(float32([GRID_POINTS, 1], (p.values.data as Float32Array).subarray(offset, offset + GRID_POINTS))) });
      }
    }
    return {
      task,
      supportInputs: row(batch.supportInputs, t),
      supportTargets: row(batch.supportTargets, t),
      gridInputs: toWire(grid),
      gridTargets: row(batch.queryTargets, t),
      predictions,
    };
  });
}

