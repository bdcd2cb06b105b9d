import { z } from 'zod';
import { Rng } from '@chameleon/core';
import { accuracyPerTask, dim, matMulT, tf, type FunctionalModel, type ParamSpec, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { tileTasks } from '../../adapt';
import type { AdaptInput, AdaptOutput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../../types';
import { Embedding, ce, embeddingField, repeatSteps, requireLabels, waysOf } from '../protonets/embedding';

export const snailConfig = z
  .object({
    /** Features of each image: "body" = the model without its head, "output" = the forward pass. Default "body". */
    embedding: embeddingField,
    /** Key (and query) size of both attention blocks. Default 32. */
    keySize: z.number().int().min(1).max(4096).default(32),
    /** Value size of both attention blocks. Default 32. */
    valueSize: z.number().int().min(1).max(4096).default(32),
    /** Filters of each dense block of the temporal-convolution block. Default 32. */
    filters: z.number().int().min(1).max(4096).default(32),
    /** Dilations of the TC block (one causal dense block each, kernel 2). Default [1, 2, 4, 8, 16]: a receptive field of 32 steps. */
    dilations: z.array(z.number().int().min(1).max(4096)).min(1).max(16).default([1, 2, 4, 8, 16]),
    /**
     * Initial key projections of the attention blocks: "query" copies each block's query
     * projection, so that at initialisation a query attends most to the support examples whose
     * features resemble its own (q.k = x_q' W W' x_s); "independent" draws them separately.
     * Default "query".
     */
    keyInit: z.enum(['query', 'independent']).default('query'),
  })
  .strict();
export type SnailConfig = z.infer<typeof snailConfig>;

/**
 * Features of a sequence: the support positions 0..N-1 [T, N, d], and each query as if it
 * were at position N right after the support set [T, Q, d] (every query in its own
 * sequence, so queries never see each other).
 */
interface Sequence {
  support: Tensor;
  query: Tensor;
}

/** x [T, R, c] . w [c, o] as one plain product. */
function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const [T, R, c] = [dim(x, 0), dim(x, 1), dim(x, 2)];
  const y = tf.reshape(matMulT(tf.reshape(x, [T * R, c]), w), [T, R, dim(w, 1)]);
  return b ? tf.add(y, b) : y;
}

/**
 * Causal attention block (SNAIL): keys, queries and values from each position; support
 * position t reads positions <= t, a query reads the whole support set and itself. The read
 * values are appended to the features.
 */
function attention(seq: Sequence, [wq, wk, wv]: Tensor[]): Sequence {
  const [T, N] = [dim(seq.support, 0), dim(seq.support, 1)];
  const scale = 1 / Math.sqrt(dim(wq, 1));
  const [qs, ks, vs] = [linear(seq.support, wq), linear(seq.support, wk), linear(seq.support, wv)];
  const future = tf.linalg.bandPart(tf.ones([N, N]), 0, -1).sub(tf.eye(N)); // 1 above the diagonal
  const logits = tf.sub(tf.mul(tf.matMul(qs, ks, false, true), scale), tf.mul(future, 1e9));
  const readS = tf.matMul(tf.softmax(logits), vs);
  const [qq, kq, vq] = [linear(seq.query, wq), linear(seq.query, wk), linear(seq.query, wv)];
  const toSupport = tf.mul(tf.matMul(qq, ks, false, true), scale); // [T, Q, N]
  const toSelf = tf.mul(tf.sum(tf.mul(qq, kq), -1, true), scale); // [T, Q, 1]
  const p = tf.softmax(tf.concat([toSupport, toSelf], 2));
  const readQ = tf.add(tf.matMul(tf.slice(p, [0, 0, 0], [T, -1, N]), vs), tf.mul(tf.slice(p, [0, 0, N], [T, -1, 1]), vq));
  return { support: tf.concat([seq.support, readS], 2), query: tf.concat([seq.query, readQ], 2) };
}

/**
 * Causal dense block of dilation d (SNAIL's temporal convolutions): a kernel-2 convolution
 * over positions t - d and t, gated (tanh * sigmoid), appended to the features.
 */
function denseBlock(seq: Sequence, d: number, [wf, bf, wg, bg]: Tensor[]): Sequence {
  const [T, N, c] = [dim(seq.support, 0), dim(seq.support, 1), dim(seq.support, 2)];
  const Q = dim(seq.query, 1);
  const shifted = d >= N ? tf.zerosLike(seq.support) : tf.concat([tf.zeros([T, d, c]), tf.slice(seq.support, [0, 0, 0], [T, N - d, c])], 1);
  // A query sits at position N: its position N - d is a support example (or before the start).
  const before = d > N ? tf.zeros([T, Q, c]) : tf.tile(tf.slice(seq.support, [0, N - d, 0], [T, 1, c]), [1, Q, 1]);
  const gate = (x: Tensor) => tf.mul(tf.tanh(linear(x, wf, bf)), tf.sigmoid(linear(x, wg, bg)));
  return {
    support: tf.concat([seq.support, gate(tf.concat([shifted, seq.support], 2))], 2),
    query: tf.concat([seq.query, gate(tf.concat([before, seq.query], 2))], 2),
  };
}

/**
 * A SNAIL-style black-box learner (Mishra et al. 2018): the support set is a sequence of
 * (embedding, one-hot label) pairs, each query is appended after it with an all-zero label,
 * and [attention, temporal convolutions, attention] followed by a linear layer read the
 * query's label off the sequence. Scaled down from the paper's Omniglot network (two TC
 * blocks and three attention blocks of 64-512 channels) to one TC block between two
 * attention blocks. Training is ordinary gradient descent on the query cross-entropy;
 * `inner.steps` is ignored (the "adaptation" is the forward pass over the support set).
 */
export class Snail implements MetaAlgorithm {
  readonly name = 'snail';

  constructor(readonly config: SnailConfig = snailConfig.parse({})) {}

  /** The learner's own parameters (after the model's). */
  ownSpec(model: FunctionalModel): ParamSpec[] {
    const { keySize: k, valueSize: v, filters: f, dilations } = this.config;
    let c = new Embedding(model, this.config.embedding).size + waysOf(model);
    const spec: ParamSpec[] = [];
    const attn = (name: string) => {
      spec.push({ name: `snail/${name}/query`, shape: [c, k] }, { name: `snail/${name}/key`, shape: [c, k] }, { name: `snail/${name}/value`, shape: [c, v] });
      c += v;
    };
    attn('attention0');
    dilations.forEach((d, i) => {
      const n = `snail/tc/dense${i}-d${d}`;
      spec.push({ name: `${n}/filter`, shape: [2 * c, f] }, { name: `${n}/filter-bias`, shape: [f] }, { name: `${n}/gate`, shape: [2 * c, f] }, { name: `${n}/gate-bias`, shape: [f] });
      c += f;
    });
    attn('attention1');
    spec.push({ name: 'snail/output/weight', shape: [c, waysOf(model)] }, { name: 'snail/output/bias', shape: [waysOf(model)] });
    return spec;
  }

  paramSpec(model: FunctionalModel): ParamSpec[] {
    return [...model.spec, ...this.ownSpec(model)];
  }

  init(model: FunctionalModel, seed: number): Float32Array[] {
    const rng = Rng.fromKeys('snail-init', seed);
    const own = this.ownSpec(model).map((p) => {
      const v = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
      if (p.shape.length === 2) {
        const limit = Math.sqrt(6 / (p.shape[0] + p.shape[1]));
        for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-limit, limit);
      }
      return v;
    });
    if (this.config.keyInit === 'query') {
      const spec = this.ownSpec(model);
      spec.forEach((p, i) => {
        if (!p.name.endsWith('/key')) return;
        own[i] = own[spec.findIndex((q) => q.name === p.name.replace(/\/key$/, '/query'))].slice();
      });
    }
    return [...model.init(seed), ...own];
  }

  /** Logits at every support position [T, N, C] and for every query [T, Q, C], from embeddings. */
  sequenceLogits(support: Tensor, supportY: Tensor, query: Tensor, own: readonly Tensor[], classes: number): { support: Tensor; query: Tensor } {
    const [T, Q] = [dim(query, 0), dim(query, 1)];
    let seq: Sequence = {
      support: tf.concat([support, tf.oneHot(tf.cast(supportY, 'int32'), classes)], 2),
      query: tf.concat([query, tf.zeros([T, Q, classes])], 2),
    };
    let i = 0;
    const take = (n: number) => own.slice(i, (i += n));
    seq = attention(seq, take(3));
    for (const d of this.config.dilations) seq = denseBlock(seq, d, take(4));
    seq = attention(seq, take(3));
    const [w, b] = take(2);
    return { support: linear(seq.support, w, b), query: linear(seq.query, w, b) };
  }

  private queryLogits(embedding: Embedding, used: readonly Tensor[], own: readonly Tensor[], supportX: Tensor, supportY: Tensor, queryX: Tensor): Tensor {
    const e = embedding.episode(used, supportX, queryX);
    return this.sequenceLogits(e.support, supportY, e.query!, own, waysOf(embedding.model)).query;
  }

  metaGradient({ model, params, batch, loss }: MetaGradientInput): MetaGradientOutput {
    requireLabels(this.name, loss);
    const embedding = new Embedding(model, this.config.embedding);
    const extra = this.ownSpec(model).length;
    let perTask: Tensor | undefined;
    let accuracy: Tensor | undefined;
    const { value, grads } = embedding.gradients(params, extra, (used, own) => {
      const logits = this.queryLogits(embedding, used, own, batch.supportX, batch.supportY, batch.queryX);
      perTask = tf.keep(ce(logits, batch.queryY));
      accuracy = tf.keep(tf.mean(accuracyPerTask(logits, batch.queryY)));
      return tf.mean(perTask) as tf.Scalar;
    });
    // No inner loop and no support loss of its own: the column holds each task's query loss.
    const supportLosses = tf.expandDims(perTask!, 1);
    perTask!.dispose();
    return { grads, metaLoss: value, supportLosses, metaAccuracy: accuracy };
  }

  adapt({ model, params, supportX, supportY, inner, loss, queryX, queryY, predictX }: AdaptInput): AdaptOutput {
    requireLabels(this.name, loss);
    const embedding = new Embedding(model, this.config.embedding);
    const modelCount = model.spec.length;
    const [used, own] = [params.slice(0, embedding.used), params.slice(modelCount)];
    const T = dim(supportX, 0);
    const result: { -readonly [K in keyof AdaptOutput]: AdaptOutput[K] } = { phi: tileTasks(params.slice(0, modelCount), T), supportLosses: tf.zeros([T, inner.steps + 1]) };
    if (queryX && queryY) {
      const logits = this.queryLogits(embedding, used, own, supportX, supportY, queryX);
      const l = ce(logits, queryY);
      result.supportLosses = repeatSteps(l, inner.steps);
      result.queryLosses = repeatSteps(l, inner.steps);
      result.queryAccuracies = repeatSteps(accuracyPerTask(logits, queryY), inner.steps);
    }
    if (predictX) {
      const p = this.queryLogits(embedding, used, own, supportX, supportY, predictX);
      result.predictions = tf.stack(Array.from({ length: inner.steps + 1 }, () => p), 0);
    }
    return result;
  }
}

export const snailPlugin: PluginManifest<'algorithm', SnailConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'snail',
  version: '1.0.0',
  description: 'SNAIL-style black-box learner: causal attention and temporal convolutions over (x, label) pairs (Mishra et al. 2018)',
  configSchema: snailConfig,
  create: (config) => new Snail(config),
};
