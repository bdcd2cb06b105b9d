import { z } from 'zod';
import { invalidArgument } from '@chameleon/core';
import { accuracyPerTask, dim, lossPerTask, Mlp, tf, type FunctionalModel, type LossName, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import type { AdaptInput, AdaptOutput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../../types';
import { stopGradient } from '../common/unroll';
import { ContextMlp } from './context-mlp';

export const caviaConfig = z
  .object({
    /** Context parameters per task, concatenated to the input of the first layer. Default 4. */
    contextSize: z.number().int().min(1).max(4096).default(4),
    /** Hold the context gradient constant in the outer gradient (first order). Default false: the paper differentiates through the inner update. */
    firstOrder: z.boolean().default(false),
  })
  .strict();
export type CaviaConfig = z.infer<typeof caviaConfig>;

/** The inner loop's result: contexts and the support-loss trace. */
export interface ContextAdaptation {
  /** The adapted contexts [T, C]. */
  readonly context: Tensor;
  /** The contexts before each step, then after the last: steps + 1 of [T, C]. */
  readonly contexts: Tensor[];
  /** [T] per step: before each step, then after the last. */
  readonly supportLosses: Tensor[];
}

/**
 * CAVIA, fast context adaptation via meta-learning (Zintgraf, Shiarlis, Kurin, Hofmann &
 * Whiteson 2019): each task gets a context vector, concatenated to the network's input,
 * reset to zero per task and the ONLY thing the inner loop adapts (gradient steps with the
 * run's inner learning rate); the network's weights are shared by all tasks and learned in
 * the outer loop only. The meta-parameters are the Mlp's own plus the first layer's context
 * rows (`context/layer0/weight`); adapted parameters are reported in the plain Mlp's layout,
 * the context folded into the first bias (see ContextMlp.fold).
 */
export class Cavia implements MetaAlgorithm {
  readonly name = 'cavia';
  private readonly nets = new WeakMap<FunctionalModel, ContextMlp>();

  constructor(readonly config: CaviaConfig = caviaConfig.parse({})) {}

  /** The context network around an Mlp (INVALID_ARGUMENT for other models). */
  net(model: FunctionalModel): ContextMlp {
    if (!(model instanceof Mlp)) throw invalidArgument('model.architecture', `cavia concatenates its context to an mlp's input; got "${model.architecture}"`);
    let net = this.nets.get(model);
    if (!net) {
      net = new ContextMlp(model, this.config.contextSize);
      this.nets.set(model, net);
    }
    return net;
  }

  paramSpec(model: FunctionalModel) {
    return this.net(model).spec;
  }

  init(model: FunctionalModel, seed: number) {
    return this.net(model).init(seed);
  }

  /**
   * The inner loop: contexts start at zero and take `steps` gradient steps on each task's
   * support loss. Differentiable w.r.t. the weights when called on a gradient tape.
   */
  adaptContext(net: ContextMlp, params: readonly Tensor[], x: Tensor, y: Tensor, loss: LossName, steps: number, learningRate: number, firstOrder = this.config.firstOrder): ContextAdaptation {
    const losses = (c: Tensor) => lossPerTask(loss, net.forward(params, c, x), y);
    let context = tf.zeros([dim(x, 0), this.config.contextSize]);
    const contexts = [context];
    const supportLosses: Tensor[] = [];
    for (let s = 0; s < steps; s++) {
      // Each task's loss depends on its own context row only: the gradient of the sum is per task.
      const { value, grads } = tf.valueAndGrads((c: Tensor) => losses(c))([context]);
      supportLosses.push(value);
      context = tf.sub(context, tf.mul(learningRate, firstOrder ? stopGradient(grads[0]) : grads[0]));
      contexts.push(context);
    }
    supportLosses.push(losses(context));
    return { context, contexts, supportLosses };
  }

  metaGradient({ model, params, batch, inner, loss }: MetaGradientInput): MetaGradientOutput {
    const net = this.net(model);
    const support: Tensor[] = [];
    let accuracy: Tensor | undefined;
    const { value, grads } = tf.valueAndGrads((...theta: Tensor[]) => {
      const a = this.adaptContext(net, theta, batch.supportX, batch.supportY, loss, inner.steps, inner.learningRate);
      support.push(...a.supportLosses.map((t) => tf.keep(t)));
      const out = net.forward(theta, a.context, batch.queryX);
      if (loss === 'cross-entropy') accuracy = tf.keep(tf.mean(accuracyPerTask(out, batch.queryY)));
      return tf.mean(lossPerTask(loss, out, batch.queryY)) as tf.Scalar;
    })([...params]);
    const supportLosses = tf.stack(support, 1);
    tf.dispose(support);
    return { grads, metaLoss: value, supportLosses, metaAccuracy: accuracy };
  }

  adapt(input: AdaptInput): AdaptOutput {
    const { model, params, supportX, supportY, inner, loss, queryX, queryY, predictX } = input;
    const net = this.net(model);
    const query: Tensor[] = [];
    const accuracy: Tensor[] = [];
    const predictions: Tensor[] = [];
    const record = (c: Tensor) => {
      if (queryX && queryY) {
        const out = net.forward(params, c, queryX);
        query.push(lossPerTask(loss, out, queryY));
        if (loss === 'cross-entropy') accuracy.push(accuracyPerTask(out, queryY));
      }
      if (predictX) predictions.push(net.forward(params, c, predictX));
    };
    const a = this.adaptContext(net, params, supportX, supportY, loss, inner.steps, inner.learningRate, true);
    a.contexts.forEach(record);
    return {
      phi: net.fold(params, a.context),
      supportLosses: tf.stack(a.supportLosses, 1),
      queryLosses: query.length ? tf.stack(query, 1) : undefined,
      queryAccuracies: accuracy.length ? tf.stack(accuracy, 1) : undefined,
      predictions: predictions.length ? tf.stack(predictions, 0) : undefined,
    };
  }
}

export const caviaPlugin: PluginManifest<'algorithm', CaviaConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'cavia',
  version: '1.0.0',
  description: 'CAVIA: per-task context parameters adapted in the inner loop, shared weights in the outer loop (Zintgraf et al. 2019)',
  configSchema: caviaConfig,
  create: (config) => new Cavia(config),
};
