import { z } from 'zod';
import { tf, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import type { MetaAlgorithm } from '../../types';
import { EpisodeClassifier, embeddingField, waysOf, type Embedding } from '../protonets/embedding';

export const matchingConfig = z
  .object({
    /** Features: "body" = the model without its head, "output" = the forward pass. Default "body". */
    embedding: embeddingField,
    /**
     * Multiplies the cosine similarities before the softmax. Default 1, the paper's plain
     * softmax over cosines (bounded in [-1, 1], so the attention is never sharp).
     */
    scale: z.number().positive().max(1000).default(1),
  })
  .strict();
export type MatchingConfig = z.infer<typeof matchingConfig>;

const unit = (x: Tensor) => tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), -1, true), 1e-8)));

/**
 * The attention kernel a(x^, x_i) of matching networks: a softmax over the support set of
 * the scaled cosine similarities between query and support embeddings.
 * query [T, Q, D], support [T, N, D] -> [T, Q, N], each row summing to one.
 */
export function matchingAttention(query: Tensor, support: Tensor, scale = 1): Tensor {
  return tf.softmax(tf.mul(scale, tf.matMul(unit(query), unit(support), false, true)));
}

/**
 * Class log-probabilities log P(y = c | x^, S) = log sum_i a(x^, x_i) [y_i = c]: [T, Q, C].
 * Their softmax is the distribution itself (it sums to one), so cross-entropy on them is
 * -log P(y | x^, S), the paper's objective.
 */
export function matchingLogProbabilities(attention: Tensor, supportY: Tensor, classes: number): Tensor {
  const onehot = tf.oneHot(tf.cast(supportY, 'int32'), classes);
  return tf.log(tf.add(tf.matMul(attention, onehot), 1e-12));
}

/**
 * Matching networks (Vinyals et al. 2016) without full context embeddings: queries are
 * labelled by attention over the support set, P(y | x^, S) = sum_i a(x^, x_i) y_i, with a a
 * softmax over cosine similarities of embeddings (one shared embedding for support and
 * query). The meta-gradient is the gradient of the query cross-entropy; `inner.steps` is
 * ignored in training, and every evaluation "step" reports the same prediction.
 */
export class MatchingNetworks extends EpisodeClassifier {
  readonly name = 'matching';

  constructor(override readonly config: MatchingConfig = { embedding: 'body', scale: 1 }) {
    super(config);
  }

  /** Class log-probabilities of the support (leave-in) and query examples. */
  override logits(embedding: Embedding, params: readonly Tensor[], supportX: Tensor, supportY: Tensor, queryX?: Tensor): { support: Tensor; query?: Tensor } {
    const e = embedding.episode(params, supportX, queryX);
    const ways = waysOf(embedding.model);
    const classify = (q: Tensor) => matchingLogProbabilities(matchingAttention(q, e.support, this.config.scale), supportY, ways);
    return { support: classify(e.support), query: e.query ? classify(e.query) : undefined };
  }
}

export const matchingPlugin: PluginManifest<'algorithm', MatchingConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'matching',
  version: '1.0.0',
  description: 'Matching networks: attention over support embeddings by cosine similarity (Vinyals et al. 2016)',
  configSchema: matchingConfig,
  create: (config) => new MatchingNetworks(config),
};
