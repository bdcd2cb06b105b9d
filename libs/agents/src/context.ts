import type { Policy } from '@chameleon/rl';
import type { Agent, EpisodeRecord } from './agent';

/** A named parameter list read from a checkpoint, in spec order. */
export interface NamedParams {
  readonly names: string[];
  readonly values: Float32Array[];
}

/** What an agent may read from a training checkpoint. */
export interface CheckpointContent {
  /** The policy plugin and its configuration. */
  readonly policy: { architecture: string; config: Record<string, unknown> };
  /** Meta-learned parameters (theta, and e.g. "alpha/<param>" step sizes). */
  readonly params: NamedParams;
  /** The pretrained (multi-task) baseline, when trained. */
  readonly baseline?: NamedParams;
  /** Further trainees by name (e.g. "oracle"). */
  readonly trainees: Record<string, NamedParams>;
  /** The run configuration. */
  readonly config: Record<string, unknown>;
}

/**
 * What the hosting app gives agent plugins: domain code cannot read protobuf checkpoints or
 * build plugins itself, so the agent-server and the CLI inject these.
 */
export interface AgentContext {
  readCheckpoint(path: string): CheckpointContent;
  createPolicy(architecture: string, config: Record<string, unknown>): Policy;
  /**
   * When present, agents may run their between-round update elsewhere (the agent-server's
   * worker threads) so that other opponents' actions are not held up by it.
   */
  readonly offloadAdaptation?: (job: AdaptationJob) => Promise<Float32Array[]>;
}

/** A self-contained eq. 9 update: everything a worker needs to compute phi. */
export interface AdaptationJob {
  readonly policy: { readonly architecture: string; readonly config: Record<string, unknown> };
  readonly theta: readonly Float32Array[];
  /** Per inner step, per parameter tensor: a number, [1] or the tensor's size. */
  readonly alpha: ReadonlyArray<ReadonlyArray<Float32Array | number>>;
  readonly episodes: readonly EpisodeRecord[];
  readonly discount: number;
  /** GAE lambda of the advantages (absent: 1). */
  readonly gaeLambda?: number;
  /**
   * The session the update is for: a host may send a session's updates to the same worker,
   * whose cache then holds the baseline matrices of the episodes the previous update used.
   */
  readonly session?: string;
}

/** An agent plugin's product: a factory bound to the host's context. */
export type AgentFactory = (ctx: AgentContext) => Agent;

/** Picks named parameters in the policy's order, failing with the missing names. */
export function paramsFor(policy: Policy, p: NamedParams, what: string): Float32Array[] {
  const byName = new Map(p.names.map((n, i) => [n, p.values[i]]));
  return policy.spec.map((s) => {
    const v = byName.get(s.name);
    if (!v) throw new Error(`${what} has no parameter "${s.name}" (has ${p.names.join(', ')})`);
    return v;
  });
}
