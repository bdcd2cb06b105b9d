export { agentServerService, fieldAgents, type AgentEntry } from './service';
export { agentContext } from './context';
export { AdaptationPool } from './adapt-pool';
export { AgentMetrics } from './metrics';
export { liveSessions, type FieldedAgent } from './play';
