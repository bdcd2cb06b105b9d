import { z } from 'zod';
import { Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import { GruPolicy, gruPolicyConfig } from '@chameleon/rl';
import type { Agent } from '../agent';
import { paramsFor, type AgentFactory } from '../context';

export const rl2AgentConfig = z
  .object({
    /** Checkpoint of an RL^2 policy (model "rl2-gru"). */
    checkpoint: z.string().min(1),
    /** Clear the GRU state at the start of every round (default false: one trial per match, as RL^2 keeps it across episodes). */
    resetEveryRound: z.boolean().default(false),
    /** Act with the mean. Default false. */
    deterministic: z.boolean().default(false),
  })
  .strict();
export type Rl2AgentConfig = z.infer<typeof rl2AgentConfig>;

/**
 * RL^2 (Duan et al. 2016), the recurrent baseline of Al-Shedivat et al. (2018): no gradient
 * step between rounds; the GRU's state, fed the previous action, reward and episode end,
 * carries what the agent learned about its opponent across episodes.
 */
export const rl2Agent: PluginManifest<'agent', Rl2AgentConfig, AgentFactory> = {
  kind: 'agent',
  name: 'rl2',
  version: '1.0.0',
  description: 'RL^2 recurrent policy (GRU state kept across episodes; adapts through its state, not gradients)',
  configSchema: rl2AgentConfig,
  create: (config) => (ctx) => {
    const ckpt = ctx.readCheckpoint(config.checkpoint);
    if (ckpt.policy.architecture !== 'rl2-gru') throw new Error(`checkpoint ${config.checkpoint} holds a "${ckpt.policy.architecture}" policy; the rl2 agent needs "rl2-gru"`);
    const policy = new GruPolicy(gruPolicyConfig.parse(ckpt.policy.config));
    const params = paramsFor(policy as unknown as Parameters<typeof paramsFor>[0], ckpt.params, `checkpoint ${config.checkpoint}`);
    const agent: Agent = {
      kind: 'agent',
      name: 'rl2',
      description: rl2Agent.description,
      observationSize: policy.observationSize,
      actionSize: policy.actionSize,
      session: ({ seed }) => {
        const rng = Rng.fromKeys('agent', seed);
        let h: Float32Array = policy.initialState();
        let prevAction: Float32Array = new Float32Array(policy.actionSize);
        let prevReward = 0;
        let prevDone = 0;
        let started = false;
        return {
          act: (observation, feedback) => {
            if (feedback?.first && started) prevDone = 1;
            else if (feedback) prevReward = feedback.reward;
            const r = policy.step(params, h, { observation, previousAction: prevAction, previousReward: prevReward, previousDone: prevDone }, rng, config.deterministic);
            [h, prevAction, prevDone, started] = [r.state, r.action, 0, true];
            return { action: r.action, logProb: r.logProb };
          },
          lastStep: (reward) => {
            prevReward = reward;
          },
          endRound: (episodes) => {
            if (config.resetEveryRound) [h, prevAction, prevReward, prevDone, started] = [policy.initialState(), new Float32Array(policy.actionSize), 0, 0, false];
            return { episodesUsed: episodes.length };
          },
          dispose: () => undefined,
        };
      },
    };
    return agent;
  },
};
