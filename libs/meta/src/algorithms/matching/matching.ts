import { z } from 'zod';
import { accuracyPerTask, dim, tf, type FunctionalModel, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { tileTasks } from '../../adapt';
import type { AdaptInput, AdaptOutput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../../types';
import { Embedding, ce, embeddingField, repeatSteps, requireLabels, waysOf } from '../protonets/embedding';

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
export class MatchingNetworks implements MetaAlgorithm {
  readonly name = 'matching';

  constructor(readonly config: MatchingConfig = { embedding: 'body', scale: 1 }) {}

  paramSpec(model: FunctionalModel) {
    return [...model.spec];
  }

  init(model: FunctionalModel, seed: number) {
    return model.init(seed);
  }

  /** Class log-probabilities of the support (leave-in) and query examples. */
  logits(embedding: Embedding, params: readonly Tensor[], supportX: Tensor, supportY: Tensor, queryX?: Tensor): { support: Tensor; query?: Tensor } {
    const e = embedding.episode(params, supportX, queryX);
    const ways = waysOf(embedding.model);
    const classify = (q: Tensor) => matchingLogProbabilities(matchingAttention(q, e.support, this.config.scale), supportY, ways);
    return { support: classify(e.support), query: e.query ? classify(e.query) : undefined };
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

export const matchingPlugin: PluginManifest<'algorithm', MatchingConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'matching',
  version: '1.0.0',
  description: 'Matching networks: attention over support embeddings by cosine similarity (Vinyals et al. 2016)',
  configSchema: matchingConfig,
  create: (config) => new MatchingNetworks(config),
};
