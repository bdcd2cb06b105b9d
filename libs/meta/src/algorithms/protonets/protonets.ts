import { z } from 'zod';
import { accuracyPerTask, dim, tf, type FunctionalModel, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { tileTasks } from '../../adapt';
import type { AdaptInput, AdaptOutput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../../types';
import { Embedding, ce, embeddingField, repeatSteps, requireLabels, waysOf } from './embedding';

export const protoNetsConfig = z
  .object({
    /** Features: "body" = the model without its head (conv-4: 64 features), "output" = the forward pass. Default "body" (Snell et al. 2017). */
    embedding: embeddingField,
  })
  .strict();
export type ProtoNetsConfig = z.infer<typeof protoNetsConfig>;

/**
 * Class prototypes: the mean embedding of each class's support examples.
 * embeddings [T, N, D], int32 labels [T, N] -> [T, C, D] (a class with no example gets 0).
 */
export function prototypes(embeddings: Tensor, labels: Tensor, classes: number): Tensor {
  const onehot = tf.oneHot(tf.cast(labels, 'int32'), classes); // [T, N, C]
  const counts = tf.maximum(tf.sum(onehot, 1), 1); // [T, C]
  const sums = tf.matMul(tf.transpose(onehot, [0, 2, 1]), embeddings); // [T, C, D]
  return tf.div(sums, tf.expandDims(counts, 2));
}

/** Logits = -squared Euclidean distance to each prototype: [T, Q, D], [T, C, D] -> [T, Q, C]. */
export function negativeSquaredDistances(query: Tensor, protos: Tensor): Tensor {
  const q2 = tf.sum(tf.square(query), -1, true); // [T, Q, 1]
  const p2 = tf.expandDims(tf.sum(tf.square(protos), -1), 1); // [T, 1, C]
  const cross = tf.matMul(query, protos, false, true); // [T, Q, C]
  return tf.neg(tf.add(tf.sub(q2, tf.mul(2, cross)), p2));
}

/**
 * Prototypical networks (Snell, Swersky & Zemel 2017): embed the episode, average each
 * class's support embeddings into a prototype, classify queries by softmax over negative
 * squared Euclidean distances. The meta-gradient is the ordinary gradient of the query
 * cross-entropy with respect to the embedding's parameters; there is no inner loop, so
 * `inner.steps` is ignored in training, and at evaluation every "step" reports the same
 * (step-0) prediction.
 *
 * @example
 *   const algo = new ProtoNets();
 *   const { grads, metaLoss } = algo.metaGradient({ model: conv4, params, batch, inner, loss: 'cross-entropy' });
 */
export class ProtoNets implements MetaAlgorithm {
  readonly name = 'protonets';

  constructor(readonly config: ProtoNetsConfig = { embedding: 'body' }) {}

  paramSpec(model: FunctionalModel) {
    return [...model.spec];
  }

  init(model: FunctionalModel, seed: number) {
    return model.init(seed);
  }

  /** Support and query logits of an episode (support and query embedded in one pass per task). */
  logits(embedding: Embedding, params: readonly Tensor[], supportX: Tensor, supportY: Tensor, queryX?: Tensor): { support: Tensor; query?: Tensor } {
    const e = embedding.episode(params, supportX, queryX);
    const protos = prototypes(e.support, supportY, waysOf(embedding.model));
    return { support: negativeSquaredDistances(e.support, protos), query: e.query ? negativeSquaredDistances(e.query, protos) : undefined };
  }

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
    const T = dim(supportX, 0);
    const out = this.logits(embedding, params.slice(0, embedding.used), supportX, supportY, queryX);
    const result: { -readonly [K in keyof AdaptOutput]: AdaptOutput[K] } = {
      phi: tileTasks(params.slice(0, model.spec.length), T),
      supportLosses: repeatSteps(ce(out.support, supportY), inner.steps),
    };
    if (out.query && queryY) {
      result.queryLosses = repeatSteps(ce(out.query, queryY), inner.steps);
      result.queryAccuracies = repeatSteps(accuracyPerTask(out.query, queryY), inner.steps);
    }
    if (predictX) {
      const p = this.logits(embedding, params.slice(0, embedding.used), supportX, supportY, predictX).query!;
      result.predictions = tf.stack(Array.from({ length: inner.steps + 1 }, () => p), 0);
    }
    return result;
  }
}

export const protoNetsPlugin: PluginManifest<'algorithm', ProtoNetsConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'protonets',
  version: '1.0.0',
  description: 'Prototypical networks: softmax over -squared distances to class-mean embeddings (Snell et al. 2017)',
  configSchema: protoNetsConfig,
  create: (config) => new ProtoNets(config),
};
