import { resourceExhausted, stableStringify } from '@chameleon/core';
import type { SupervisedBatch } from '@chameleon/envs';
import { tf, type FunctionalModel, type LossName } from '@chameleon/nn';
import type { InnerLoopConfig, MetaAlgorithm } from './types';

export const MIB = 2 ** 20;

/** The largest heap the wasm backend can grow to: 4 GiB less one 64 KiB page (tfjs-backend-wasm 4.22). */
export const WASM_HEAP_MAX_BYTES = 4294901760;

/**
 * Default budget of one autodiff pass's tensors in automatic mode: half the wasm heap. The
 * meter counts tensors only, not the allocator's fragmentation or XNNPACK's packed weights and
 * scratch, which live in the same heap; measured for MAML++ on a 64-filter conv-4 (2 second-order
 * steps, 80 images per task): one task peaks at 1,349 MiB of tensors, two at 2,710 MiB (they ran),
 * four abort the backend.
 */
export const DEFAULT_PASS_MEMORY_MB = 2048;

/**
 * Tasks per autodiff pass for a measured peak of one task's tensors and a budget: as many whole
 * tasks as fit, floor(budget / peak) (a pass of n tasks holds about n times one task's tape;
 * the parameters and their gradients, shared by the tasks, make this an overestimate). A task
 * with no measurable peak fits any number of times. Throws RESOURCE_EXHAUSTED when a single
 * task exceeds the budget; `what` describes the task for the message.
 */
export function chooseTasksPerPass(perTaskPeakBytes: number, budgetBytes: number, what = 'one task'): number {
  if (!(perTaskPeakBytes > 0)) return Number.MAX_SAFE_INTEGER;
  const n = Math.floor(budgetBytes / perTaskPeakBytes);
  if (n >= 1) return n;
  throw resourceExhausted(
    'batch',
    `${what} needs about ${Math.ceil(perTaskPeakBytes / MIB)} MiB of tensors to differentiate, more than the learner's pass budget of ${Math.floor(budgetBytes / MIB)} MiB ` +
      `(--pass-memory-mb / CHAMELEON_PASS_MEMORY_MB; the wasm heap cannot grow beyond 4 GiB): use fewer support or query examples per task, fewer inner steps, a smaller model or a first-order variant, or raise the budget`,
  );
}

/** Runs `run` and reports the peak of live tensor bytes above those alive before it. */
export type PeakMeter = <R>(run: () => R) => { result: R; peakBytes: number };

interface ProfilingState {
  profiling: boolean;
  numBytes: number;
  activeProfile: { kernels: Array<{ totalBytesSnapshot: number }> };
}

/**
 * tf.profile's `peakBytes`, synchronously: tf.profile is async, but the engine records the
 * live tensor bytes after every kernel while its `profiling` flag is set, which is what this
 * does around a synchronous function (inside an enclosing tf.profile it only reads the records).
 */
export const meterPeakBytes: PeakMeter = <R>(run: () => R) => {
  const state = (tf.engine() as unknown as { state: ProfilingState }).state;
  const start = state.numBytes;
  const nested = state.profiling;
  const from = nested ? state.activeProfile.kernels.length : 0;
  if (!nested) {
    state.activeProfile.kernels = [];
    state.profiling = true;
  }
  let kernels: Array<{ totalBytesSnapshot: number }> = [];
  try {
    const result = run();
    kernels = state.activeProfile.kernels.slice(from);
    let peak = start;
    for (const k of kernels) peak = Math.max(peak, k.totalBytesSnapshot);
    return { result, peakBytes: peak - start };
  } finally {
    if (!nested) {
      state.profiling = false;
      state.activeProfile.kernels = [];
    }
  }
};

const ids = new WeakMap<object, number>();
let nextId = 0;
const identity = (o: object): number => {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
};

/**
 * What the size of one task's tape depends on besides the model and the task's shapes: the
 * algorithm's `passKey()` when it has one, else its name and config without `iteration` (which
 * the meta-optimiser changes on every call, and the learner builds a new instance for), else
 * its name and own data fields (a plugin without a `config`; the instance itself only when
 * those cannot be written out).
 */
export function algorithmPassKey(algorithm: MetaAlgorithm): string {
  if (algorithm.passKey) return algorithm.passKey();
  const config = (algorithm as { config?: unknown }).config;
  if (config && typeof config === 'object') {
    const rest = { ...(config as Record<string, unknown>) };
    delete rest.iteration;
    return `${algorithm.name}:${stableStringify(rest)}`;
  }
  try {
    const fields = Object.fromEntries(Object.entries(algorithm).filter(([k, v]) => typeof v !== 'function' && k !== 'iteration'));
    return `${algorithm.name}~${stableStringify(fields)}`;
  } catch {
    return `${algorithm.name}#${identity(algorithm)}`;
  }
}

export interface PassPlannerOptions {
  /** Budget of one pass's tensors in bytes. Default DEFAULT_PASS_MEMORY_MB MiB. */
  readonly budgetBytes?: number;
  /** How one task's peak is measured. Default meterPeakBytes. */
  readonly meter?: PeakMeter;
}

/**
 * Automatic pass size: the peak tensor bytes of differentiating one task, measured once per
 * (model, algorithm, task shape, inner steps, loss) and cached, gives the tasks per pass.
 */
export class PassPlanner {
  readonly budgetBytes: number;
  private readonly meter: PeakMeter;
  private readonly peaks = new WeakMap<FunctionalModel, Map<string, number>>();

  constructor(options: PassPlannerOptions = {}) {
    this.budgetBytes = options.budgetBytes ?? DEFAULT_PASS_MEMORY_MB * MIB;
    if (!(this.budgetBytes > 0)) throw new Error(`pass memory budget must be > 0 bytes, got ${this.budgetBytes}`);
    this.meter = options.meter ?? meterPeakBytes;
  }

  /** The cache key of a batch's task shape under an algorithm (the model is keyed by identity). */
  key(algorithm: MetaAlgorithm, batch: SupervisedBatch, inner: InnerLoopConfig, loss: LossName): string {
    const per = (h: { dtype: string; shape: readonly number[] }) => `${h.dtype}[${h.shape.slice(1).join(',')}]`;
    return `${algorithmPassKey(algorithm)}|${per(batch.supportX)}|${per(batch.supportY)}|${per(batch.queryX)}|${per(batch.queryY)}|${inner.steps}|${loss}`;
  }

  /** The cached peak of one task, if measured. */
  known(model: FunctionalModel, key: string): number | undefined {
    return this.peaks.get(model)?.get(key);
  }

  /** Runs a one-task pass under the meter and caches its peak. */
  measure<R>(model: FunctionalModel, key: string, run: () => R): R {
    const { result, peakBytes } = this.meter(run);
    let m = this.peaks.get(model);
    if (!m) this.peaks.set(model, (m = new Map()));
    if (m.size >= 256) m.clear();
    m.set(key, peakBytes);
    return result;
  }

  /** Tasks per pass for a measured peak under this planner's budget (RESOURCE_EXHAUSTED if one task exceeds it). */
  tasksPerPass(perTaskPeakBytes: number, what?: string): number {
    return chooseTasksPerPass(perTaskPeakBytes, this.budgetBytes, what);
  }
}

/** The planner metaGradientHost uses when none is given (process-wide cache, default budget). */
export const defaultPassPlanner = new PassPlanner();
