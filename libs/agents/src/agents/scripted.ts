import { z } from 'zod';
import type { PluginManifest } from '@chameleon/plugins';
import { LEGGED_ANATOMIES, constantGait, idlePolicy, leggedObservationSize, pushTowardOpponent, sumoObservationLayout, type Anatomy, type ScriptedPolicy as EnvScriptedPolicy } from '@chameleon/envs';
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

export const scriptedLeggedConfig = z
  .object({
    /** Body: ant (4 legs), bug (6) or spider (8). Default ant. */
    anatomy: z.enum(['ant', 'bug', 'spider']).default('ant'),
    /** Actions are scaled by this (a weaker or stronger opponent). Default 1. */
    strength: z.number().min(0).max(1).default(1),
  })
  .strict();
export type ScriptedLeggedConfig = z.infer<typeof scriptedLeggedConfig>;

/**
 * A scripted policy from libs/envs (scripted.ts) as an agent: each session gets its own
 * instance, so the gait's clock (its number of calls) is per opponent.
 */
function leggedAgent(name: string, description: string, sizes: (anatomy: Anatomy) => { obs: number; act: number }, make: (anatomy: Anatomy) => EnvScriptedPolicy): PluginManifest<'agent', ScriptedLeggedConfig, AgentFactory> {
  return {
    kind: 'agent',
    name,
    version: '1.0.0',
    description,
    configSchema: scriptedLeggedConfig,
    create: (config) => () => {
      const { obs, act } = sizes(config.anatomy);
      const agent: Agent = {
        kind: 'agent',
        name,
        description,
        observationSize: obs,
        actionSize: act,
        session: () => {
          const policy = make(config.anatomy);
          return {
            act: (o) => ({ action: policy(o).map((a) => config.strength * a), logProb: 0 }),
            endRound: () => ({ episodesUsed: 0 }),
            dispose: () => undefined,
          };
        },
      };
      return agent;
    },
  };
}

const legsOf = (a: Anatomy) => LEGGED_ANATOMIES[a].length;

/** RoboSumo opponent: walks toward the opponent and through it (envs' pushTowardOpponent). */
export const sumoPusherAgent = leggedAgent(
  'scripted-sumo-pusher',
  'RoboSumo: walks toward and through the opponent with a tuned gait (scripted; strength scales its actions)',
  (a) => ({ obs: sumoObservationLayout(legsOf(a)).size, act: 2 * legsOf(a) }),
  (a) => pushTowardOpponent(a),
);

/** RoboSumo opponent that stands still (zero torques). */
export const sumoIdleAgent = leggedAgent('scripted-sumo-idle', 'RoboSumo: zero torques (scripted reference opponent)', (a) => ({ obs: sumoObservationLayout(legsOf(a)).size, act: 2 * legsOf(a) }), (a) => idlePolicy(2 * legsOf(a)));

/** Nonstationary locomotion: the open-loop constant gait along +x (ignores the observation). */
export const gaitAgent = leggedAgent('scripted-gait', 'Nonstationary locomotion: open-loop alternating gait along +x (scripted baseline)', (a) => ({ obs: leggedObservationSize(legsOf(a)), act: 2 * legsOf(a) }), (a) => constantGait(a));
