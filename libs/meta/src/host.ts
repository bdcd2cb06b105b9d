import { check, float32, invalidArgument, resourceExhausted, type HostTensor } from '@chameleon/core';
import type { SupervisedBatch } from '@chameleon/envs';
import { tf, type FunctionalModel, type LossName, type ParamSpec, type Tensor } from '@chameleon/nn';
import { defaultPassPlanner, type PassPlanner } from './passes';
import type { InnerLoopConfig, MetaAlgorithm } from './types';

/** Upper bound on inner steps per request: keeps one request from occupying a learner for minutes. */
export const MAX_INNER_STEPS = 1000;

export interface HostMetaGradientResult {
  readonly grads: Float32Array[];
  readonly metaLoss: number;
  /** [T, steps + 1] */
  readonly supportLosses: HostTensor<'float32'>;
  readonly metaAccuracy?: number;
}

export interface HostAdaptResult {
  /** Per-task adapted parameters, each [T, ...shape] (when requested). */
  readonly phi?: Float32Array[];
  readonly supportLosses: HostTensor<'float32'>;
  readonly queryLosses?: HostTensor<'float32'>;
  readonly queryAccuracies?: HostTensor<'float32'>;
  readonly predictions?: HostTensor<'float32'>;
}

/** The loss implied by the targets' dtype unless one is given. */
export function resolveLoss(targets: HostTensor, requested?: LossName): LossName {
  const implied: LossName = targets.dtype === 'int32' ? 'cross-entropy' : 'mse';
  if (requested && requested !== implied) {
    throw invalidArgument('loss', `${requested} needs ${requested === 'mse' ? 'float32' : 'int32'} targets, got ${targets.dtype}`);
  }
  return implied;
}

/** Checks a parameter list against a spec: count, shapes, finiteness. */
export function checkParams(spec: readonly ParamSpec[], values: readonly Float32Array[], field = 'params', perTask?: number): void {
  check(values.length === spec.length, field, `expected ${spec.length} tensors (${spec.map((p) => p.name).join(', ')}), got ${values.length}`);
  spec.forEach((p, i) => {
    const n = p.shape.reduce((a, b) => a * b, 1) * (perTask ?? 1);
    if (values[i].length !== n) {
      const shape = perTask ? [perTask, ...p.shape] : p.shape;
      throw invalidArgument(`${field}[${i}]`, `${p.name} must have shape [${shape.join(', ')}] (${n} values), got ${values[i].length} values`);
    }
    const v = values[i];
    for (let j = 0; j < v.length; j++) {
      if (!Number.isFinite(v[j])) throw invalidArgument(`${field}[${i}]`, `${p.name} element ${j} is not finite (NaN or Inf)`);
    }
  });
}

export function checkInner(inner: InnerLoopConfig): void {
  check(Number.isInteger(inner.steps) && inner.steps >= 0, 'inner.steps', `must be an integer >= 0, got ${inner.steps}`);
  if (inner.steps > MAX_INNER_STEPS) throw resourceExhausted('inner.steps', `at most ${MAX_INNER_STEPS}, got ${inner.steps}`);
  check(Number.isFinite(inner.learningRate) && inner.learningRate >= 0, 'inner.learning_rate', `must be a finite number >= 0, got ${inner.learningRate}`);
}

/** Checks inputs [T, N, ...inputShape] and targets against the model; returns T. */
export function checkExamples(model: FunctionalModel, x: HostTensor, y: HostTensor, prefix: string, loss: LossName, minExamples = 1): number {
  const xs = x.shape;
  const ys = y.shape;
  const want = model.inputShape;
  check(x.dtype === 'float32', `${prefix}_inputs`, `must be float32, got ${x.dtype}`);
  check(
    xs.length === want.length + 2 && want.every((d, i) => xs[i + 2] === d),
    `${prefix}_inputs`,
    `must have shape [T, N, ${want.join(', ')}], got [${xs.join(', ')}]`,
  );
  check(xs[0] >= 1, `${prefix}_inputs`, 'needs at least one task');
  check(xs[1] >= minExamples, `${prefix}_inputs`, `needs at least ${minExamples} example(s) per task, got ${xs[1]}`);
  const targetShape = loss === 'mse' ? [xs[0], xs[1], ...model.outputShape] : [xs[0], xs[1]];
  check(
    ys.length === targetShape.length && targetShape.every((d, i) => ys[i] === d),
    `${prefix}_targets`,
    `must have shape [${targetShape.join(', ')}] to match ${prefix}_inputs and the model, got [${ys.join(', ')}]`,
  );
  for (const [t, f] of [[x, `${prefix}_inputs`], [y, `${prefix}_targets`]] as const) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) throw invalidArgument(f, `element ${i} is not finite (NaN or Inf)`);
  }
  if (loss === 'cross-entropy') {
    const classes = model.outputShape[model.outputShape.length - 1];
    const d = y.data;
    for (let i = 0; i < d.length; i++) {
      if (d[i] < 0 || d[i] >= classes) throw invalidArgument(`${prefix}_targets`, `label ${d[i]} at ${i} is outside [0, ${classes})`);
    }
  }
  return xs[0];
}

const toTensor = (h: HostTensor): Tensor => tf.tensor(h.data as Float32Array | Int32Array, h.shape as number[], h.dtype === 'int32' ? 'int32' : 'float32');

const toHost = (t: Tensor): HostTensor<'float32'> => float32(t.shape as number[], t.dataSync() as Float32Array);

/**
 * One meta-gradient on host arrays: validates, runs the algorithm on the backend, copies
 * the results back and frees every tensor it made.
 */
export function metaGradientHost(
  algorithm: MetaAlgorithm,
  model: FunctionalModel,
  params: readonly Float32Array[],
  batch: SupervisedBatch,
  inner: InnerLoopConfig,
  requestedLoss?: LossName,
  options: MetaGradientOptions = {},
): HostMetaGradientResult {
  const spec = algorithm.paramSpec(model);
  checkParams(spec, params);
  checkInner(inner);
  const loss = resolveLoss(batch.supportY, requestedLoss);
  const T = checkExamples(model, batch.supportX, batch.supportY, 'support', loss);
  const Tq = checkExamples(model, batch.queryX, batch.queryY, 'query', loss, algorithm.name === 'reptile' || algorithm.name === 'pretrain' ? 0 : 1);
  check(Tq === T, 'query_inputs', `has ${Tq} tasks but support_inputs has ${T}`);
  const per = options.tasksPerPass ?? 0;
  check(Number.isInteger(per) && per >= 0, 'tasks_per_pass', `must be an integer >= 0 (0: automatic), got ${per}`);
  if (per > 0) return per < T ? inPasses(algorithm, model, params, batch, inner, loss, per, T) : onePass(algorithm, model, params, batch, inner, loss);
  return automatic(algorithm, model, params, batch, inner, loss, T, options.planner ?? defaultPassPlanner);
}

export interface MetaGradientOptions {
  /**
   * Tasks per autodiff pass. 0 (default): automatic, as many as fit `planner`'s memory budget
   * (the whole batch when it fits); N >= 1: N at a time, unchecked (N >= T: the whole batch at
   * once). Every meta-objective here is a mean over the batch's tasks, so the batch's gradient
   * is the task-weighted mean of its passes' gradients (checked for every algorithm by the
   * contract tests), while one pass holds only its own tasks' tape: a second-order conv-4 tape
   * of a whole batch can outgrow the wasm backend's 4 GB heap, which aborts the process.
   */
  readonly tasksPerPass?: number;
  /** Automatic mode's budget, meter and cache of per-task peaks. Default: defaultPassPlanner. */
  readonly planner?: PassPlanner;
}

/** Tasks [a, b) of a [T, ...] host tensor (a view, no copy). */
function taskSlice<D extends HostTensor['dtype']>(h: HostTensor<D>, a: number, b: number): HostTensor<D> {
  const size = h.data.length / h.shape[0];
  return { dtype: h.dtype, shape: [b - a, ...h.shape.slice(1)], data: h.data.subarray(a * size, b * size) as HostTensor<D>['data'] };
}

const batchSlice = (batch: SupervisedBatch, a: number, b: number): SupervisedBatch => ({
  supportX: taskSlice(batch.supportX, a, b),
  supportY: taskSlice(batch.supportY, a, b),
  queryX: taskSlice(batch.queryX, a, b),
  queryY: taskSlice(batch.queryY, a, b),
});

/**
 * Automatic pass size: the first call for a (model, algorithm, task shape, inner steps, loss)
 * first differentiates task 0 alone under the planner's meter; its peak, cached, sets the
 * tasks per pass for this and every later call of the key. The measuring pass is not part of
 * the answer: the passes (and so the float32 rounding of the result) depend only on the key,
 * never on whether it was measured before, so a run gives bit-identical numbers whether or not
 * the learner served the same shapes earlier. One task over the budget is RESOURCE_EXHAUSTED,
 * on every call of the key (a task which by itself fills the whole heap still aborts while
 * being measured: nothing is known about it before).
 */
function automatic(algorithm: MetaAlgorithm, model: FunctionalModel, params: readonly Float32Array[], batch: SupervisedBatch, inner: InnerLoopConfig, loss: LossName, T: number, planner: PassPlanner): HostMetaGradientResult {
  const key = planner.key(algorithm, batch, inner, loss);
  const what = () =>
    `one task (${algorithm.name}, ${inner.steps} inner step(s), ${batch.supportX.shape[1]} support and ${batch.queryX.shape[1]} query examples of [${batch.supportX.shape.slice(2).join(', ')}])`;
  if (planner.known(model, key) === undefined) planner.measure(model, key, () => onePass(algorithm, model, params, batchSlice(batch, 0, 1), inner, loss));
  const per = planner.tasksPerPass(planner.known(model, key)!, what());
  return per < T ? inPasses(algorithm, model, params, batch, inner, loss, per, T) : onePass(algorithm, model, params, batch, inner, loss);
}

/** Passes of `per` tasks, averaged by task. */
function inPasses(algorithm: MetaAlgorithm, model: FunctionalModel, params: readonly Float32Array[], batch: SupervisedBatch, inner: InnerLoopConfig, loss: LossName, per: number, T: number): HostMetaGradientResult {
  const grads = params.map((p) => new Float64Array(p.length));
  let metaLoss = 0;
  let metaAccuracy: number | undefined;
  const losses: Float32Array[] = [];
  let columns = 0;
  const add = (r: HostMetaGradientResult, tasks: number) => {
    const w = tasks / T;
    r.grads.forEach((g, i) => {
      const acc = grads[i];
      for (let j = 0; j < g.length; j++) acc[j] += w * g[j];
    });
    metaLoss += w * r.metaLoss;
    if (r.metaAccuracy !== undefined) metaAccuracy = (metaAccuracy ?? 0) + w * r.metaAccuracy;
    losses.push(r.supportLosses.data);
    columns = r.supportLosses.shape[1];
  };
  for (let a = 0; a < T; a += per) {
    const b = Math.min(T, a + per);
    add(onePass(algorithm, model, params, batchSlice(batch, a, b), inner, loss), b - a);
  }
  const all = new Float32Array(T * columns);
  losses.reduce((off, l) => (all.set(l, off), off + l.length), 0);
  return { grads: grads.map((g) => Float32Array.from(g)), metaLoss, supportLosses: float32([T, columns], all), metaAccuracy };
}

function onePass(algorithm: MetaAlgorithm, model: FunctionalModel, params: readonly Float32Array[], batch: SupervisedBatch, inner: InnerLoopConfig, loss: LossName): HostMetaGradientResult {
  const spec = algorithm.paramSpec(model);
  const out = tf.tidy(() => {
    const theta = params.map((v, i) => tf.tensor(v, spec[i].shape as number[]));
    const b = { supportX: toTensor(batch.supportX), supportY: toTensor(batch.supportY), queryX: toTensor(batch.queryX), queryY: toTensor(batch.queryY) };
    const r = algorithm.metaGradient({ model, params: theta, batch: b, inner, loss });
    return { grads: r.grads, metaLoss: r.metaLoss, supportLosses: r.supportLosses, metaAccuracy: r.metaAccuracy };
  });
  try {
    return {
      grads: out.grads.map((g) => g.dataSync() as Float32Array),
      metaLoss: out.metaLoss.dataSync()[0],
      supportLosses: toHost(out.supportLosses),
      metaAccuracy: out.metaAccuracy ? out.metaAccuracy.dataSync()[0] : undefined,
    };
  } finally {
    tf.dispose([...out.grads, out.metaLoss, out.supportLosses, ...(out.metaAccuracy ? [out.metaAccuracy] : [])]);
  }
}

/** Adaptation on host arrays (evaluation, the Adapt RPC). */
export function adaptHost(
  algorithm: MetaAlgorithm,
  model: FunctionalModel,
  params: readonly Float32Array[],
  support: { x: HostTensor; y: HostTensor },
  inner: InnerLoopConfig,
  options: { query?: { x: HostTensor; y: HostTensor }; predictX?: HostTensor; returnParams?: boolean; loss?: LossName } = {},
): HostAdaptResult {
  const spec = algorithm.paramSpec(model);
  checkParams(spec, params);
  checkInner(inner);
  const loss = resolveLoss(support.y, options.loss);
  const T = checkExamples(model, support.x, support.y, 'support', loss);
  if (options.query) {
    const Tq = checkExamples(model, options.query.x, options.query.y, 'query', loss);
    check(Tq === T, 'query_inputs', `has ${Tq} tasks but support_inputs has ${T}`);
  }
  if (options.predictX) {
    const p = options.predictX;
    check(p.shape.length === model.inputShape.length + 2 && p.shape[0] === T, 'prediction_inputs', `must have shape [${T}, G, ${model.inputShape.join(', ')}], got [${p.shape.join(', ')}]`);
  }
  const out = tf.tidy(() => {
    const theta = params.map((v, i) => tf.tensor(v, spec[i].shape as number[]));
    const r = algorithm.adapt({
      model,
      params: theta,
      supportX: toTensor(support.x),
      supportY: toTensor(support.y),
      inner,
      loss,
      queryX: options.query ? toTensor(options.query.x) : undefined,
      queryY: options.query ? toTensor(options.query.y) : undefined,
      predictX: options.predictX ? toTensor(options.predictX) : undefined,
    });
    return { ...r, phi: options.returnParams ? r.phi : [] };
  });
  try {
    return {
      phi: options.returnParams ? out.phi.map((p) => p.dataSync() as Float32Array) : undefined,
      supportLosses: toHost(out.supportLosses),
      queryLosses: out.queryLosses ? toHost(out.queryLosses) : undefined,
      queryAccuracies: out.queryAccuracies ? toHost(out.queryAccuracies) : undefined,
      predictions: out.predictions ? toHost(out.predictions) : undefined,
    };
  } finally {
    tf.dispose([...out.phi, out.supportLosses, ...[out.queryLosses, out.queryAccuracies, out.predictions].filter((t): t is Tensor => !!t)]);
  }
}

/** Forward pass on host arrays. `perTask` params carry a leading task axis. */
export function predictHost(model: FunctionalModel, params: readonly Float32Array[], x: HostTensor, perTask: boolean): HostTensor<'float32'> {
  const T = perTask ? x.shape[0] : undefined;
  checkParams(model.spec, params, 'params', T);
  const want = model.inputShape;
  const lead = perTask ? 2 : 1;
  check(x.dtype === 'float32', 'inputs', `must be float32, got ${x.dtype}`);
  check(
    x.shape.length === want.length + lead && want.every((d, i) => x.shape[i + lead] === d),
    'inputs',
    `must have shape [${perTask ? 'T, N' : 'N'}, ${want.join(', ')}], got [${x.shape.join(', ')}]`,
  );
  for (let i = 0; i < x.data.length; i++) if (!Number.isFinite(x.data[i])) throw invalidArgument('inputs', `element ${i} is not finite (NaN or Inf)`);
  const y = tf.tidy(() => {
    const p = params.map((v, i) => tf.tensor(v, perTask ? [T!, ...model.spec[i].shape] : (model.spec[i].shape as number[])));
    const xt = toTensor(x);
    return perTask ? model.forwardPerTask(p, xt) : model.forward(p, xt);
  });
  try {
    return toHost(y);
  } finally {
    y.dispose();
  }
}
