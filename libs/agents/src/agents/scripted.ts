import { z } from 'zod';
import type { PluginManifest } from '@chameleon/plugins';
import type { Agent } from '../agent';
import type { AgentFactory } from '../context';

/** A deterministic function of the observation. */
export type ScriptedPolicy = (observation: Float32Array) => Float32Array;

/**
 * Wraps a scripted policy as an agent plugin (for opponents and tests): it acts from the
 * observation alone and never adapts.
 */
export function scriptedAgent(name: string, description: string, observationSize: number, actionSize: number, policy: ScriptedPolicy): PluginManifest<'agent', Record<string, never>, AgentFactory> {
  return {
    kind: 'agent',
    name,
    version: '1.0.0',
    description,
    configSchema: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
    create: () => () => {
      const agent: Agent = {
        kind: 'agent',
        name,
        description,
        observationSize,
        actionSize,
        session: () => ({ act: (obs) => ({ action: policy(obs), logProb: 0 }), endRound: () => ({ episodesUsed: 0 }), dispose: () => undefined }),
      };
      return agent;
    },
  };
}

/** Does nothing: a reference opponent and a test agent (2-D observations and actions). */
export const stillAgent = scriptedAgent('scripted-still', 'Always outputs a zero action (a test and reference agent)', 2, 2, () => new Float32Array(2));
