import { z } from 'zod';
import { invalidArgument } from '@chameleon/core';
import { crossEntropyPerTask, dim, tf, type FunctionalModel, type LossName, type Tensor } from '@chameleon/nn';

/** What a model offers when it can embed without its head (the conv-4 does: libs/nn/src/conv4). */
interface EmbeddingCapable {
  readonly embeddingParams: number;
  readonly embeddingShape: readonly number[];
  embed(params: readonly Tensor[], x: Tensor): Tensor;
}

const capable = (m: FunctionalModel): m is FunctionalModel & EmbeddingCapable =>
  typeof (m as Partial<EmbeddingCapable>).embed === 'function' && typeof (m as Partial<EmbeddingCapable>).embeddingParams === 'number';

/**
 * Which features the metric-based and black-box learners work on: "body" is the model
 * without its head when the model can embed (conv-4: the 64 features after 4 blocks); else,
 * or with "output", the model's forward pass.
 */
export const embeddingField = z.enum(['body', 'output']).default('body');
export type EmbeddingMode = z.infer<typeof embeddingField>;

/** The model as an embedding function f_theta: x [T, N, ...input] -> [T, N, D]. */
export class Embedding {
  /** Leading model parameters the embedding reads (the rest get zero gradients). */
  readonly used: number;
  readonly size: number;
  private readonly body: boolean;

  constructor(
    readonly model: FunctionalModel,
    mode: EmbeddingMode,
  ) {
    this.body = mode === 'body' && capable(model);
    this.used = this.body ? (model as unknown as EmbeddingCapable).embeddingParams : model.spec.length;
    const shape = this.body ? (model as unknown as EmbeddingCapable).embeddingShape : model.outputShape;
    this.size = shape.reduce((a, b) => a * b, 1);
  }

  /**
   * Embeds every task's examples with shared parameters. A conv-4 body normalises each task
   * (its whole episode) with its own batch statistics.
   */
  apply(params: readonly Tensor[], x: Tensor): Tensor {
    const [T, N] = x.shape;
    if (this.body) return tf.reshape((this.model as unknown as EmbeddingCapable).embed(params, x), [T, N, this.size]);
    const flat = tf.reshape(x, [T * N, ...this.model.inputShape]);
    return tf.reshape(this.model.forward(params, flat), [T, N, this.size]);
  }

  /** Embeds support and query sets in one pass per task: [T, K + Q, ...] -> [T, K, D] and [T, Q, D]. */
  episode(params: readonly Tensor[], support: Tensor, query?: Tensor): { support: Tensor; query?: Tensor } {
    if (!query) return { support: this.apply(params, support) };
    const K = dim(support, 1);
    const both = this.apply(params, tf.concat([support, query], 1));
    const [T, N] = [dim(both, 0), dim(both, 1)];
    return { support: tf.slice(both, [0, 0, 0], [T, K, -1]), query: tf.slice(both, [0, K, 0], [T, N - K, -1]) };
  }

  /**
   * Value and gradients of a scalar objective of the embedding parameters (plus `extra`
   * parameters of the learner itself), with zero gradients for the model parameters the
   * embedding does not read (tfjs refuses gradients of unconnected inputs).
   */
  gradients(params: readonly Tensor[], extra: number, objective: (used: Tensor[], rest: Tensor[]) => tf.Scalar): { value: tf.Scalar; grads: Tensor[] } {
    const modelCount = this.model.spec.length;
    const used = params.slice(0, this.used);
    const rest = params.slice(modelCount, modelCount + extra);
    const { value, grads } = tf.valueAndGrads((...p: Tensor[]) => objective(p.slice(0, this.used), p.slice(this.used)))([...used, ...rest]);
    const zeros = params.slice(this.used, modelCount).map((p) => tf.zerosLike(p));
    return { value, grads: [...grads.slice(0, this.used), ...zeros, ...grads.slice(this.used)] };
  }
}

/** Classes of the model's head: the N of N-way. */
export const waysOf = (model: FunctionalModel): number => model.outputShape[model.outputShape.length - 1];

/** Query metrics repeated for steps + 1 "steps" (these learners do not take gradient steps). */
export function repeatSteps(perTask: Tensor, steps: number): Tensor {
  return tf.tile(tf.expandDims(perTask, 1), [1, steps + 1]);
}

/** Cross-entropy per task: [T]. */
export const ce = (logits: Tensor, labels: Tensor): Tensor => crossEntropyPerTask(logits, labels);

/** These learners classify: they need int32 labels. */
export function requireLabels(name: string, loss: LossName): void {
  if (loss !== 'cross-entropy') throw invalidArgument('loss', `${name} classifies: it needs int32 labels (cross-entropy), not ${loss}`);
}
