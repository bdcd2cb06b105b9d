import type { FunctionalModel, LossName, ParamSpec, Tensor } from '@chameleon/nn';

/** A task batch on the compute backend: T tasks, K support and Q query examples. */
export interface MetaBatch {
  /** [T, K, ...input] */
  readonly supportX: Tensor;
  /** [T, K, ...target] */
  readonly supportY: Tensor;
  /** [T, Q, ...input] */
  readonly queryX: Tensor;
  /** [T, Q, ...target] */
  readonly queryY: Tensor;
}

/** The inner loop: plain gradient descent. */
export interface InnerLoopConfig {
  readonly steps: number;
  readonly learningRate: number;
}

/** Everything an algorithm needs for one meta-gradient. */
export interface MetaGradientInput {
  readonly model: FunctionalModel;
  /** All meta-parameters, in `algorithm.paramSpec(model)` order. */
  readonly params: readonly Tensor[];
  readonly batch: MetaBatch;
  readonly inner: InnerLoopConfig;
  readonly loss: LossName;
}

/** What one meta-gradient returns. Tensors are owned by the caller (dispose them). */
export interface MetaGradientOutput {
  /** One gradient per meta-parameter, same shapes. */
  readonly grads: Tensor[];
  /** Mean query loss after adaptation: the meta-objective. */
  readonly metaLoss: Tensor;
  /** Support loss per task before and after each inner step, [T, steps + 1]. */
  readonly supportLosses: Tensor;
  /** Mean query accuracy after adaptation (classification). */
  readonly metaAccuracy?: Tensor;
}

/** Adaptation of shared parameters to each task of a batch. */
export interface AdaptInput {
  readonly model: FunctionalModel;
  readonly params: readonly Tensor[];
  readonly supportX: Tensor;
  readonly supportY: Tensor;
  readonly inner: InnerLoopConfig;
  readonly loss: LossName;
  /** When given, the query loss (and accuracy) is recorded before and after every step. */
  readonly queryX?: Tensor;
  readonly queryY?: Tensor;
  /** When given, predictions at these inputs [T, G, ...] are recorded before and after every step. */
  readonly predictX?: Tensor;
}

export interface AdaptOutput {
  /** Adapted model parameters, each with a leading task axis [T, ...]. */
  readonly phi: Tensor[];
  /** [T, steps + 1] */
  readonly supportLosses: Tensor;
  /** [T, steps + 1] when queries were given. */
  readonly queryLosses?: Tensor;
  /** [T, steps + 1] for classification with queries. */
  readonly queryAccuracies?: Tensor;
  /** [steps + 1, T, G, ...] when predictX was given. */
  readonly predictions?: Tensor;
}

/**
 * An optimisation-based meta-learning algorithm as pure functions over parameter lists.
 * `metaGradient` is what the outer loop descends; `adapt` is the algorithm's own
 * adaptation rule, used at evaluation time.
 */
export interface MetaAlgorithm {
  readonly name: string;
  /**
   * True when the algorithm's config has an `iteration` field (the current meta-iteration,
   * 0-based) for the meta-optimiser to set on every MetaGradient call: schedules such as
   * MAML++'s loss-weight and derivative-order annealing, or per-iteration noise seeds.
   */
  readonly usesIteration?: boolean;
  /**
   * What the autodiff tape's size per task depends on besides the model and the batch's task
   * shape, for the learner's automatic pass size (libs/meta/src/passes.ts). Default: the name
   * and the config without `iteration`; an algorithm whose tape changes with the iteration (e.g.
   * MAML++'s derivative-order annealing) says so here.
   */
  passKey?(): string;
  /** Meta-parameters: the model's, plus any the algorithm learns (e.g. step sizes). */
  paramSpec(model: FunctionalModel): ParamSpec[];
  /** Initial values of the meta-parameters. */
  init(model: FunctionalModel, seed: number): Float32Array[];
  metaGradient(input: MetaGradientInput): MetaGradientOutput;
  adapt(input: AdaptInput): AdaptOutput;
}
