import type { z } from 'zod';
import { invalidArgument } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import { withInner, type PolicyMetaAlgorithm } from '../algorithms';
import { metaPairsConfig, metaPairsStep } from './meta-pairs';
import { isStepSizePolicy } from './step-size-policy';

/**
 * Algorithm 1 of Al-Shedivat et al. (2018) as a meta-RL algorithm plugin. `pre[i]` are
 * trajectories of T_i (with theta), `post[i]` trajectories of T_{i+1} (with the adapted
 * policy); theta and the step sizes alpha (carried by the "gaussian-mlp-step-sizes" policy)
 * take `epochs` Adam steps on the PPO-clipped loss, through the inner steps. Stateless: Adam
 * restarts at every call, as maml-ppo's.
 */
export const continuousAdaptationPlugin: PluginManifest<'algorithm', z.infer<typeof metaPairsConfig>, PolicyMetaAlgorithm> = {
  kind: 'algorithm',
  name: 'continuous-adaptation',
  version: '1.0.0',
  description: 'Continuous adaptation via meta-learning (Al-Shedivat et al. 2018, Algorithm 1): learned per-step step sizes, PPO-clipped loss on T_{i+1} through M inner steps on T_i',
  configSchema: metaPairsConfig,
  create: (config) => ({
    kind: 'policy-meta',
    name: 'continuous-adaptation',
    step(policy, theta, pre, post, inner) {
      if (!isStepSizePolicy(policy)) throw invalidArgument('policy.architecture', `continuous-adaptation learns step sizes carried by the policy: use "gaussian-mlp-step-sizes", not "${policy.name}"`);
      const r = metaPairsStep(policy, theta, pre, post, { ...config, advantages: withInner(config.advantages, inner) });
      const d = r.diagnostics;
      return { theta: r.params, surrogateBefore: d.surrogateBefore, surrogateAfter: d.surrogateAfter, kl: d.kl, lineSearchSteps: d.epochs, accepted: true };
    },
  }),
};
