export * from './agent';
export * from './context';
export * from './batch';
export * from './agents/fixed';
export * from './agents/adapter';
export * from './agents/ppo-tracking';
export * from './agents/scripted';
export * from './agents/rl2';

import { fixedPolicyAgent } from './agents/fixed';
import { metaAdapterAgent } from './agents/adapter';
import { ppoTrackingAgent } from './agents/ppo-tracking';
import { rl2Agent } from './agents/rl2';
import { gaitAgent, stillAgent, sumoIdleAgent, sumoPusherAgent } from './agents/scripted';

/** Built-in agent plugins. */
export const builtinAgents = [fixedPolicyAgent, metaAdapterAgent, ppoTrackingAgent, stillAgent, sumoPusherAgent, sumoIdleAgent, gaitAgent, rl2Agent];
export * from './trueskill';
