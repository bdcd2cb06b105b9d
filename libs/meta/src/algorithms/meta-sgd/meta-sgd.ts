import { z } from 'zod';
import { Rng } from '@chameleon/core';
import { tf, type FunctionalModel, type ParamSpec } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { sgdAdapt, tileTasks } from '../../adapt';
import type { AdaptInput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../../types';
import { unrolledMetaGradient } from '../common/unroll';

export const metaSgdConfig = z
  .object({
    /**
     * Initial step sizes alpha: a range [low, high] sampled uniformly per element, or one
     * value for every element. Default [0.005, 0.1] (Li et al. 2017, section 4.1).
     */
    alphaInit: z.union([z.number().min(0), z.tuple([z.number().min(0), z.number().min(0)])]).default([0.005, 0.1]),
    /** Hold the inner gradients constant in the outer gradient (first order). Default false: the paper is second order. */
    firstOrder: z.boolean().default(false),
  })
  .strict();
export type MetaSgdConfig = z.infer<typeof metaSgdConfig>;

/** Prefix of the learned step sizes in the parameter list: "alpha/layer0/weight". */
export const ALPHA_PREFIX = 'alpha/';

/**
 * Meta-SGD (Li, Zhou, Chen & Li 2017): the inner update is phi = theta - alpha ∘ grad L(theta)
 * with a step size per parameter element, alpha meta-learned with theta. alpha travels with
 * theta in the parameter list (`alpha/<name>`, same shapes), so the meta-optimiser updates
 * both and the Adapt RPC finds the learned step sizes in the candidate's parameters. The
 * run's inner learning rate is not used.
 *
 * @example
 *   const alg = new MetaSgd(metaSgdConfig.parse({}));
 *   const theta = alg.init(model, 1);            // model params, then alpha/<param>
 *   const { grads } = alg.metaGradient({ model, params, batch, inner: { steps: 1, learningRate: 0 }, loss: 'mse' });
 */
export class MetaSgd implements MetaAlgorithm {
  readonly name = 'meta-sgd';

  constructor(readonly config: MetaSgdConfig = metaSgdConfig.parse({})) {}

  paramSpec(model: FunctionalModel): ParamSpec[] {
    return [...model.spec, ...model.spec.map((p) => ({ name: `${ALPHA_PREFIX}${p.name}`, shape: p.shape }))];
  }

  init(model: FunctionalModel, seed: number): Float32Array[] {
    const rng = Rng.fromKeys('meta-sgd/alpha', seed);
    const [lo, hi] = typeof this.config.alphaInit === 'number' ? [this.config.alphaInit, this.config.alphaInit] : this.config.alphaInit;
    const alpha = model.spec.map((p) => Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(lo, hi)));
    return [...model.init(seed), ...alpha];
  }

  metaGradient(input: MetaGradientInput): MetaGradientOutput {
    const n = input.model.spec.length;
    const T = input.batch.supportX.shape[0];
    return unrolledMetaGradient(input, (all) => {
      const alpha = all.slice(n);
      return { model: input.model, start: tileTasks(all.slice(0, n), T), rule: { step: (i, _s, g) => tf.mul(alpha[i], g), firstOrder: this.config.firstOrder } };
    });
  }

  adapt(input: AdaptInput) {
    const n = input.model.spec.length;
    return sgdAdapt({ ...input, params: input.params.slice(0, n) }, input.params.slice(n));
  }
}

export const metaSgdPlugin: PluginManifest<'algorithm', MetaSgdConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'meta-sgd',
  version: '1.0.0',
  description: 'Meta-SGD: MAML with learned per-parameter step sizes (Li et al. 2017)',
  configSchema: metaSgdConfig,
  create: (config) => new MetaSgd(config),
};
