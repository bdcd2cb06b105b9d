import { z } from 'zod';
import { invalidArgument } from '@chameleon/core';
import { accuracyPerTask, crossEntropyPerTask, dim, tf, type FunctionalModel, type LossName, type Tensor } from '@chameleon/nn';
import { tileTasks } from '../../adapt';
import type { AdaptInput, AdaptOutput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../../types';

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

/**
 * What ProtoNets and Matching networks share: an episode is embedded and classified in one
 * pass (`logits`), the meta-gradient is the ordinary gradient of the query cross-entropy, and
 * there is no inner loop: `inner.steps` is ignored in training, and at evaluation every
 * "step" reports the same (step-0) prediction. Subclasses give the classification rule.
 */
export abstract class EpisodeClassifier implements MetaAlgorithm {
  abstract readonly name: string;

  constructor(readonly config: { readonly embedding: EmbeddingMode }) {}

  paramSpec(model: FunctionalModel) {
    return [...model.spec];
  }

  init(model: FunctionalModel, seed: number) {
    return model.init(seed);
  }

  /** Class logits [T, N|Q, C] of the support examples (leave-in) and of the queries. */
  abstract logits(embedding: Embedding, params: readonly Tensor[], supportX: Tensor, supportY: Tensor, queryX?: Tensor): { support: Tensor; query?: Tensor };

  metaGradient({ model, params, batch, loss }: MetaGradientInput): MetaGradientOutput {
    requireLabels(this.name, loss);
    const embedding = new Embedding(model, this.config.embedding);
    let supportLoss: Tensor | undefined;
    let accuracy: Tensor | undefined;
    const { value, grads } = embedding.gradients(params, 0, (used) => {
      const out = this.logits(embedding, used, batch.supportX, batch.supportY, batch.queryX);
      supportLoss = tf.keep(ce(out.support, batch.supportY));
      accuracy = tf.keep(tf.mean(accuracyPerTask(out.query!, batch.queryY)));
      return tf.mean(ce(out.query!, batch.queryY)) as tf.Scalar;
    });
    const supportLosses = tf.expandDims(supportLoss!, 1);
    supportLoss!.dispose();
    return { grads, metaLoss: value, supportLosses, metaAccuracy: accuracy };
  }

  adapt({ model, params, supportX, supportY, inner, loss, queryX, queryY, predictX }: AdaptInput): AdaptOutput {
    requireLabels(this.name, loss);
    const embedding = new Embedding(model, this.config.embedding);
    const used = params.slice(0, embedding.used);
    const out = this.logits(embedding, used, supportX, supportY, queryX);
    const result: { -readonly [K in keyof AdaptOutput]: AdaptOutput[K] } = {
      phi: tileTasks(params.slice(0, model.spec.length), dim(supportX, 0)),
      supportLosses: repeatSteps(ce(out.support, supportY), inner.steps),
    };
    if (out.query && queryY) {
      result.queryLosses = repeatSteps(ce(out.query, queryY), inner.steps);
      result.queryAccuracies = repeatSteps(accuracyPerTask(out.query, queryY), inner.steps);
    }
    if (predictX) {
      const p = this.logits(embedding, used, supportX, supportY, predictX).query!;
      result.predictions = tf.stack(Array.from({ length: inner.steps + 1 }, () => p), 0);
    }
    return result;
  }
}
