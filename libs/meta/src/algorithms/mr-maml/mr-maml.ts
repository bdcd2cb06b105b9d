import { z } from 'zod';
import { invalidArgument, Rng } from '@chameleon/core';
import { dim, exp2, tf, type FunctionalModel, type ParamSpec, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { sgdAdapt, tileTasks } from '../../adapt';
import type { AdaptInput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../../types';
import { unrolledMetaGradient } from '../common/unroll';

export const mrMamlConfig = z
  .object({
    /** Weight beta of KL(q(theta) || N(0, I)) in the meta-objective. Default 1e-4. */
    beta: z.number().min(0).default(1e-4),
    /**
     * The stochastic parameters: "all", or parameter names / name prefixes (e.g. ["layer0/"]
     * for the first layer's weight and bias). Default "all".
     */
    stochastic: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).default('all'),
    /** Initial log standard deviation of every stochastic weight. Default -5 (std about 0.0067). */
    logStdInit: z.number().min(-30).max(5).default(-5),
    /** Hold the inner gradients constant in the outer gradient (first order). Default false. */
    firstOrder: z.boolean().default(false),
    /** Seed of the weight noise. Default 0. */
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    /**
     * The current meta-iteration, set by the meta-optimiser on every call (`usesIteration`):
     * with `seed` it fixes that iteration's noise, so resumed runs see the same samples.
     * Default: unset; every call then draws new noise from a per-instance counter.
     */
    iteration: z.number().int().min(0).optional(),
  })
  .strict();
export type MrMamlConfig = z.infer<typeof mrMamlConfig>;

/** Prefix of the learned log standard deviations: "logstd/layer0/weight". */
export const LOGSTD_PREFIX = 'logstd/';

/** KL(N(mu, diag(exp(logStd))^2) || N(0, I)) = sum 0.5 (sigma^2 + mu^2 - 1) - log sigma. */
export function gaussianKl(mu: readonly Tensor[], logStd: readonly Tensor[]): tf.Scalar {
  return tf.addN(mu.map((m, k) => tf.sum(tf.sub(tf.mul(0.5, tf.add(tf.sub(exp2(tf.mul(2, logStd[k])), 1), tf.square(m))), logStd[k])))) as tf.Scalar;
}

/**
 * MR-MAML(W), meta-learning without memorization (Yin, Tucker, Zhou, Levine & Finn 2020):
 * MAML whose meta-learned weights have a Gaussian posterior q = N(mu, sigma^2), sampled per
 * task with the reparameterisation trick (theta_t = mu + sigma * eps_t), with
 * beta * KL(q || N(0, I)) added to the meta-objective: the information stored in the
 * weights is paid for, so the network must use the support set rather than memorise the
 * tasks. The meta-parameters are the means (the model's own names) and `logstd/<name>`
 * for the stochastic ones; adaptation at evaluation starts from the means.
 */
export class MrMaml implements MetaAlgorithm {
  readonly name = 'mr-maml';
  readonly usesIteration = true;
  private calls = 0;

  constructor(readonly config: MrMamlConfig = mrMamlConfig.parse({})) {}

  /** Indices into model.spec of the stochastic parameters. */
  stochasticIndices(model: FunctionalModel): number[] {
    const s = this.config.stochastic;
    const idx = model.spec.map((p, i) => (s === 'all' || s.some((prefix) => p.name.startsWith(prefix)) ? i : -1)).filter((i) => i >= 0);
    if (!idx.length) throw invalidArgument('algorithm_config.stochastic', `matches no parameter of the model (${model.spec.map((p) => p.name).join(', ')})`);
    return idx;
  }

  paramSpec(model: FunctionalModel): ParamSpec[] {
    return [...model.spec, ...this.stochasticIndices(model).map((i) => ({ name: `${LOGSTD_PREFIX}${model.spec[i].name}`, shape: model.spec[i].shape }))];
  }

  init(model: FunctionalModel, seed: number): Float32Array[] {
    const logStd = this.stochasticIndices(model).map((i) => new Float32Array(model.spec[i].shape.reduce((a, b) => a * b, 1)).fill(this.config.logStdInit));
    return [...model.init(seed), ...logStd];
  }

  /** Standard normal noise [T, ...shape] per stochastic parameter, for the next call (or the configured iteration). */
  noise(model: FunctionalModel, tasks: number): Tensor[] {
    const draw = this.config.iteration ?? this.calls++;
    const seed = Rng.fromKeys('mr-maml/noise', this.config.seed, draw).nextUint32();
    return this.stochasticIndices(model).map((i, k) => tf.randomNormal([tasks, ...model.spec[i].shape], 0, 1, 'float32', seed + k));
  }

  /** Per-task sampled weights mu + sigma * eps [T, ...] (deterministic parameters tiled). */
  sample(model: FunctionalModel, params: readonly Tensor[], eps: readonly Tensor[]): Tensor[] {
    const n = model.spec.length;
    const T = dim(eps[0], 0);
    const idx = this.stochasticIndices(model);
    const tiled = tileTasks(params.slice(0, n), T);
    idx.forEach((i, k) => (tiled[i] = tf.add(tiled[i], tf.mul(exp2(params[n + k]), eps[k]))));
    return tiled;
  }

  /** The meta-gradient with the given noise (metaGradient draws it). */
  metaGradientWithNoise(input: MetaGradientInput, eps: readonly Tensor[]): MetaGradientOutput {
    const { model, inner } = input;
    const n = model.spec.length;
    const idx = this.stochasticIndices(model);
    return unrolledMetaGradient(input, (all) => ({
      model,
      start: this.sample(model, all, eps),
      rule: { step: (_i, _s, g) => tf.mul(inner.learningRate, g), firstOrder: this.config.firstOrder },
      penalty: this.config.beta > 0 ? tf.mul(this.config.beta, gaussianKl(idx.map((i) => all[i]), all.slice(n))) : undefined,
    }));
  }

  metaGradient(input: MetaGradientInput): MetaGradientOutput {
    return this.metaGradientWithNoise(input, this.noise(input.model, dim(input.batch.supportX, 0)));
  }

  adapt(input: AdaptInput) {
    return sgdAdapt({ ...input, params: input.params.slice(0, input.model.spec.length) });
  }
}

export const mrMamlPlugin: PluginManifest<'algorithm', MrMamlConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'mr-maml',
  version: '1.0.0',
  description: 'MR-MAML(W): MAML with stochastic weights and a KL meta-regulariser against memorization (Yin et al. 2020)',
  configSchema: mrMamlConfig,
  create: (config) => new MrMaml(config),
};
