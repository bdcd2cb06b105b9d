import { z } from 'zod';
import { stableStringify } from '@chameleon/core';
import { dim, tf, type FunctionalModel, type ParamSpec, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { tileTasks } from '../../adapt';
import type { AdaptInput, AdaptOutput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../../types';
import { ruleAdapt, unrolledMetaGradient, type InnerRule } from '../common/unroll';
import { firstOrderAt, multiStepLossWeights } from './schedules';

export const mamlPlusPlusConfig = z
  .object({
    /**
     * Inner steps with their own learned step sizes (LSLR): one per step and parameter
     * tensor. Inner steps beyond this many (in training or adaptation) reuse the last
     * step's sizes. Default 5 (the paper's five inner steps).
     */
    steps: z.number().int().min(1).max(1000).default(5),
    /** Initial value of every learned step size. Default 0.01 (the run's default inner learning rate). */
    lslrInit: z.number().min(0).default(0.01),
    msl: z
      .object({
        /** Use the multi-step loss (the query loss after every inner step, weighted). Default true. */
        enabled: z.boolean().default(true),
        /**
         * Meta-iterations over which the weights anneal toward the last step; after them the
         * last step's loss alone counts. Default 5000 (ten of the paper's 500-iteration epochs).
         */
        iterations: z.number().int().min(0).default(5000),
      })
      .strict()
      .default({ enabled: true, iterations: 5000 }),
    /**
     * Derivative-order annealing: first-order gradients for meta-iterations below this, second
     * order from it on. Default 0 (second order throughout); the paper uses first order for
     * its first 50 epochs (25,000 iterations of 500 per epoch).
     */
    firstOrderUntil: z.number().int().min(0).default(0),
    /**
     * The current meta-iteration (0-based). The meta-optimiser sets it on every MetaGradient
     * call (`usesIteration`); it drives the MSL weights and the derivative order. Default 0.
     */
    iteration: z.number().int().min(0).default(0),
  })
  .strict();
export type MamlPlusPlusConfig = z.infer<typeof mamlPlusPlusConfig>;

/** Prefix of the learned per-step step sizes: "lslr/layer0/weight" has one entry per inner step. */
export const LSLR_PREFIX = 'lslr/';

/**
 * MAML++ (Antoniou, Edwards & Storkey 2019, "How to train your MAML") for batch-norm-free
 * models: multi-step loss with annealed weights (MSL), per-step per-layer learned step
 * sizes (LSLR: one scalar per inner step and parameter tensor, meta-learned), and
 * derivative-order annealing (DA). The schedules depend on the meta-iteration, which the
 * meta-optimiser passes in the config (`iteration`). Not included: per-step batch-norm
 * statistics and weights (no batch norm in these models) and cosine annealing of the outer
 * learning rate (the meta-optimiser's).
 */
export class MamlPlusPlus implements MetaAlgorithm {
  readonly name = 'maml-plus-plus';
  readonly usesIteration = true;

  constructor(readonly config: MamlPlusPlusConfig = mamlPlusPlusConfig.parse({})) {}

  paramSpec(model: FunctionalModel): ParamSpec[] {
    return [...model.spec, ...model.spec.map((p) => ({ name: `${LSLR_PREFIX}${p.name}`, shape: [this.config.steps] }))];
  }

  init(model: FunctionalModel, seed: number): Float32Array[] {
    return [...model.init(seed), ...model.spec.map(() => new Float32Array(this.config.steps).fill(this.config.lslrInit))];
  }

  /** The tape's size depends on the config and, through derivative-order annealing, on the iteration's order. */
  passKey(): string {
    const { iteration, ...rest } = this.config;
    return `${this.name}:${stableStringify(rest)}:${firstOrderAt(iteration, this.config.firstOrderUntil) ? 'first' : 'second'}-order`;
  }

  /** The MSL weights of the query losses after steps 1..S at this config's iteration. */
  stepWeights(steps: number): number[] {
    const { msl, iteration } = this.config;
    // Without MSL: the last step only, as MAML (the schedule after annealing).
    return multiStepLossWeights(steps, iteration, msl.enabled ? msl.iterations : 0);
  }

  metaGradient(input: MetaGradientInput): MetaGradientOutput {
    const n = input.model.spec.length;
    const T = dim(input.batch.supportX, 0);
    const firstOrder = firstOrderAt(this.config.iteration, this.config.firstOrderUntil);
    return unrolledMetaGradient(
      input,
      (all) => ({ model: input.model, start: tileTasks(all.slice(0, n), T), rule: this.rule(all.slice(n), firstOrder) }),
      this.stepWeights(input.inner.steps),
    );
  }

  adapt(input: AdaptInput): AdaptOutput {
    const n = input.model.spec.length;
    const T = dim(input.supportX, 0);
    return ruleAdapt({ ...input, params: input.params.slice(0, n) }, { model: input.model, start: tileTasks(input.params.slice(0, n), T), rule: this.rule(input.params.slice(n), false) });
  }

  /** Step s of parameter i uses its s-th learned size (the last one beyond `steps`). */
  private rule(lslr: readonly Tensor[], firstOrder: boolean): InnerRule {
    const S = this.config.steps;
    return { step: (i, s, g) => tf.mul(tf.slice(lslr[i], [Math.min(s, S - 1)], [1]), g), firstOrder };
  }
}

export const mamlPlusPlusPlugin: PluginManifest<'algorithm', MamlPlusPlusConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'maml-plus-plus',
  version: '1.0.0',
  description: 'MAML++: multi-step loss, per-step per-layer learned step sizes, derivative-order annealing (Antoniou et al. 2019)',
  configSchema: mamlPlusPlusConfig,
  create: (config) => new MamlPlusPlus(config),
};
