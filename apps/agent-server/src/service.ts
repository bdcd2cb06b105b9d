import { isAgent, type AgentContext, type AgentFactory } from '@chameleon/agents';
import { invalidArgument } from '@chameleon/core';
import type { PluginRegistry } from '@chameleon/plugins';
import { AgentServiceService, DataType, type ListAgentsRequest, type ListAgentsResponse } from '@chameleon/proto';
import { unary, type HostedService } from '@chameleon/transport';
import { AgentMetrics } from './metrics';
import { playHandler, type FieldedAgent } from './play';

/** An agent to field: a name, the agent plugin and its configuration. */
export interface AgentEntry {
  readonly name: string;
  readonly plugin: string;
  readonly config?: Record<string, unknown>;
}

/** Builds the agents up front, so a bad entry fails at start, not at the first match. */
export function fieldAgents(entries: readonly AgentEntry[], registry: PluginRegistry, ctx: AgentContext): Map<string, FieldedAgent> {
  const out = new Map<string, FieldedAgent>();
  entries.forEach((e, i) => {
    if (out.has(e.name)) throw invalidArgument(`agents[${i}].name`, `"${e.name}" appears twice`);
    const factory = registry.create<AgentFactory>('agent', e.plugin, e.config ?? {}, `agents[${i}].config`);
    const agent = typeof factory === 'function' ? factory(ctx) : undefined;
    if (!isAgent(agent)) throw invalidArgument(`agents[${i}].plugin`, `"${e.plugin}" does not make an agent`);
    const spec = (name: string, n: number) => ({ name, dtype: DataType.DATA_TYPE_FLOAT32, shape: [n], elementMinimum: [], elementMaximum: [] });
    out.set(e.name, { agent, info: { name: e.name, plugin: e.plugin, description: agent.description, observationSpec: spec('observation', agent.observationSize), actionSpec: spec('action', agent.actionSize) } });
  });
  return out;
}

/**
 * The agent-server: fields agents against live opponents over Play streams, one session per
 * stream, adapting between rounds. `metrics` exposes latency percentiles for reports.
 */
export function agentServerService(agents: Map<string, FieldedAgent>, metrics = new AgentMetrics()): HostedService & { metrics: AgentMetrics } {
  return {
    name: 'chameleon.v1.AgentService',
    definition: AgentServiceService,
    implementation: {
      listAgents: unary<ListAgentsRequest, ListAgentsResponse>('Agent.ListAgents', () => ({ agents: [...agents.values()].map((a) => a.info) })),
      play: playHandler(agents, metrics),
    },
    metrics,
  };
}
