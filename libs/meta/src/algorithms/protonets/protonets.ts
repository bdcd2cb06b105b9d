import { z } from 'zod';
import { tf, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import type { MetaAlgorithm } from '../../types';
import { EpisodeClassifier, embeddingField, waysOf, type Embedding } from './embedding';

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
export class ProtoNets extends EpisodeClassifier {
  readonly name = 'protonets';

  constructor(override readonly config: ProtoNetsConfig = { embedding: 'body' }) {
    super(config);
  }

  /** Support and query logits of an episode (support and query embedded in one pass per task). */
  override logits(embedding: Embedding, params: readonly Tensor[], supportX: Tensor, supportY: Tensor, queryX?: Tensor): { support: Tensor; query?: Tensor } {
    const e = embedding.episode(params, supportX, queryX);
    const protos = prototypes(e.support, supportY, waysOf(embedding.model));
    return { support: negativeSquaredDistances(e.support, protos), query: e.query ? negativeSquaredDistances(e.query, protos) : undefined };
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
