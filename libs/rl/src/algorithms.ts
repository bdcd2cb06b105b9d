import { z } from 'zod';
import type { PluginManifest } from '@chameleon/plugins';
import { advantageConfig, type AdvantageConfig } from './advantages';
import { mamlPpoConfig, mamlPpoStep } from './maml-ppo';
import { mamlTrpoConfig, mamlTrpoStep } from './maml-trpo';
import type { Policy } from './policy';
import type { TrajectoryBatch } from './trajectory';
import { trpoConfig } from './trpo';

/** The adaptation rule shared by the learner's RPCs (the inner loop's settings). */
export interface InnerAdaptation {
  readonly steps: number;
  readonly learningRate: number;
  readonly discount: number;
  readonly gaeLambda: number;
}

/** What a meta-RL step reports. */
export interface PolicyStepResult {
  readonly theta: Float32Array[];
  readonly surrogateBefore: number;
  readonly surrogateAfter: number;
  readonly kl: number;
  readonly lineSearchSteps: number;
  readonly accepted: boolean;
}

/**
 * A meta-RL outer step as a plugin (kind "algorithm"): from theta, the pre-adaptation
 * trajectories of each task and the post-adaptation ones, the next theta.
 */
export interface PolicyMetaAlgorithm {
  readonly kind: 'policy-meta';
  readonly name: string;
  step(policy: Policy, theta: readonly Float32Array[], pre: readonly TrajectoryBatch[], post: readonly TrajectoryBatch[], inner: InnerAdaptation): PolicyStepResult;
}

export const isPolicyMetaAlgorithm = (a: unknown): a is PolicyMetaAlgorithm => !!a && (a as PolicyMetaAlgorithm).kind === 'policy-meta';

/** The inner loop's discount and lambda override the algorithm's advantage settings. */
export const withInner = (a: AdvantageConfig, inner: InnerAdaptation): AdvantageConfig => ({ ...a, gamma: inner.discount || a.gamma, lambda: inner.gaeLambda || a.lambda });

const trpoOnly = mamlTrpoConfig.omit({ innerLr: true });
const ppoOnly = mamlPpoConfig.omit({ innerLr: true });
const plainTrpo = z
  .object({
    trpo: trpoConfig.default(trpoConfig.parse({})),
    advantages: advantageConfig.default(advantageConfig.parse({})),
    /** The fused Gaussian-MLP path (see mamlTrpoConfig.fused). Default true. */
    fused: z.boolean().default(true),
  })
  .strict();

export const mamlTrpoPlugin: PluginManifest<'algorithm', z.infer<typeof trpoOnly>, PolicyMetaAlgorithm> = {
  kind: 'algorithm',
  name: 'maml-trpo',
  version: '1.0.0',
  description: 'MAML for RL with a TRPO meta-step (Finn et al. 2017): second order through the policy-gradient inner step',
  configSchema: trpoOnly,
  create: (config) => ({
    kind: 'policy-meta',
    name: 'maml-trpo',
    step(policy, theta, pre, post, inner) {
      const r = mamlTrpoStep(policy, theta, pre, post, { ...config, innerLr: inner.learningRate, advantages: withInner(config.advantages, inner) });
      const d = r.diagnostics;
      return { theta: r.theta, surrogateBefore: d.surrogateBefore, surrogateAfter: d.surrogateAfter, kl: d.kl, lineSearchSteps: d.lineSearchSteps, accepted: d.accepted };
    },
  }),
};

export const mamlPpoPlugin: PluginManifest<'algorithm', z.infer<typeof ppoOnly>, PolicyMetaAlgorithm> = {
  kind: 'algorithm',
  name: 'maml-ppo',
  version: '1.0.0',
  description: 'MAML for RL with a PPO-style clipped meta-objective (Al-Shedivat et al. 2018 use it for continuous adaptation)',
  configSchema: ppoOnly,
  create: (config) => ({
    kind: 'policy-meta',
    name: 'maml-ppo',
    step(policy, theta, pre, post, inner) {
      // Stateless learner: Adam starts afresh each meta-step (the epochs reuse the same data).
      const r = mamlPpoStep(policy, theta, pre, post, { ...config, innerLr: inner.learningRate, advantages: withInner(config.advantages, inner) });
      const d = r.diagnostics;
      return { theta: r.theta, surrogateBefore: d.surrogateBefore, surrogateAfter: d.surrogateAfter, kl: d.kl, lineSearchSteps: d.epochs, accepted: true };
    },
  }),
};

/**
 * Plain TRPO on a batch of tasks (no adaptation): the "pretrained" multi-task baseline and
 * the oracle. It is MAML-TRPO with a zero inner step on the same data.
 */
export const trpoPlugin: PluginManifest<'algorithm', z.infer<typeof plainTrpo>, PolicyMetaAlgorithm> = {
  kind: 'algorithm',
  name: 'trpo',
  version: '1.0.0',
  description: 'TRPO on trajectories of many tasks (Schulman et al. 2015): the multi-task and oracle baselines',
  configSchema: plainTrpo,
  create: (config) => ({
    kind: 'policy-meta',
    name: 'trpo',
    step(policy, theta, pre, _post, inner) {
      const r = mamlTrpoStep(policy, theta, pre, pre, { ...mamlTrpoConfig.parse({}), trpo: config.trpo, innerLr: 0, firstOrder: true, fused: config.fused, advantages: withInner(config.advantages, inner) });
      const d = r.diagnostics;
      return { theta: r.theta, surrogateBefore: d.surrogateBefore, surrogateAfter: d.surrogateAfter, kl: d.kl, lineSearchSteps: d.lineSearchSteps, accepted: d.accepted };
    },
  }),
};

export const rlAlgorithms = [mamlTrpoPlugin, mamlPpoPlugin, trpoPlugin];
