import { z } from 'zod';
import { Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { Agent } from '../agent';
import { paramsFor, type AgentFactory } from '../context';

export const fixedPolicyConfig = z
  .object({
    /** Checkpoint of an RL run. */
    checkpoint: z.string().min(1),
    /** Which parameters: "theta" (meta-learned init), "baseline" (pretrained) or a trainee name ("oracle"). Default "theta". */
    params: z.string().default('theta'),
    /** Act with the policy's mean instead of sampling. Default false. */
    deterministic: z.boolean().default(false),
  })
  .strict();
export type FixedPolicyConfig = z.infer<typeof fixedPolicyConfig>;

/** A policy that never adapts: the "no adaptation" baseline. */
export const fixedPolicyAgent: PluginManifest<'agent', FixedPolicyConfig, AgentFactory> = {
  kind: 'agent',
  name: 'fixed-policy',
  version: '1.0.0',
  description: 'A trained policy that does not adapt between rounds (the no-adaptation baseline)',
  configSchema: fixedPolicyConfig,
  create: (config) => (ctx) => {
    const ckpt = ctx.readCheckpoint(config.checkpoint);
    const policy = ctx.createPolicy(ckpt.policy.architecture, ckpt.policy.config);
    const source = config.params === 'theta' ? ckpt.params : config.params === 'baseline' ? ckpt.baseline : ckpt.trainees[config.params];
    if (!source) throw new Error(`checkpoint ${config.checkpoint} has no "${config.params}" parameters`);
    const theta = paramsFor(policy, source, `checkpoint ${config.checkpoint}`);
    const agent: Agent = {
      kind: 'agent',
      name: 'fixed-policy',
      description: fixedPolicyAgent.description,
      observationSize: policy.observationSize,
      actionSize: policy.actionSize,
      session: ({ seed }) => {
        const rng = Rng.fromKeys('agent', seed);
        return {
          act: (obs) => {
            const r = policy.act(theta, obs, 1, rng, config.deterministic);
            return { action: r.actions, logProb: r.logProbs[0] };
          },
          endRound: () => ({ episodesUsed: 0 }),
          dispose: () => undefined,
        };
      },
    };
    return agent;
  },
};
