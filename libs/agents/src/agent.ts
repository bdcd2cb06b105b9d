/** One episode as the agent lived it: rows aligned, obs before each action. */
export interface EpisodeRecord {
  readonly length: number;
  /** [length * obs] */
  readonly observations: Float32Array;
  /** [length * act] as sampled (unclipped). */
  readonly actions: Float32Array;
  /** [length] log-probability of each action under the policy that chose it. */
  readonly logProbs: Float32Array;
  /** [length] reward after each action. */
  readonly rewards: Float32Array;
  /** [length] discount after each action (0 at a terminal state). */
  readonly discounts: Float32Array;
  /** +1 win, 0 draw, -1 loss (competitive environments), when known. */
  readonly outcome?: number;
}

/** What an agent is told besides the observation. */
export interface StepFeedback {
  /** Reward of the transition into this step (0 at the first step). */
  readonly reward: number;
  /** This step starts an episode. */
  readonly first: boolean;
}

/** What an adaptation between rounds reports. */
export interface RoundAdapted {
  readonly episodesUsed: number;
}

/** An agent's state against one opponent: created per match, disposed when it ends. */
export interface AgentSession {
  /**
   * The action for an observation; fast (called every step, p99 target a few ms). `feedback`
   * carries the reward of the previous transition and whether this step starts an episode
   * (recurrent agents such as RL^2 read them; others may ignore it).
   */
  act(observation: Float32Array, feedback?: StepFeedback): { action: Float32Array; logProb: number };
  /** The episode's last transition (no action follows): its reward. Optional. */
  lastStep?(reward: number): void;
  /**
   * After a round: adapt from the round's episodes (the agent may keep older ones). May
   * resolve later when the adaptation runs off the caller's thread; callers await it before
   * the next round's first action.
   */
  endRound(episodes: readonly EpisodeRecord[]): RoundAdapted | Promise<RoundAdapted>;
  dispose(): void;
}

/**
 * An agent: a policy with an adaptation rule, fielded against opponents. The agent-server,
 * `chameleon play` and `chameleon tournament` load agents as plugins (kind "agent").
 *
 * @example
 *   const s = agent.session({ opponentId: 'bob', seed: 1 });
 *   const { action } = s.act(obs);
 *   s.endRound(episodes); // adapt between rounds
 */
export interface Agent {
  readonly kind: 'agent';
  readonly name: string;
  readonly description: string;
  readonly observationSize: number;
  readonly actionSize: number;
  session(options: { opponentId: string; seed: number }): AgentSession;
}

export const isAgent = (a: unknown): a is Agent => !!a && (a as Agent).kind === 'agent' && typeof (a as Agent).session === 'function';

/** Records one episode step by step (the agent-server and `play` use it for every agent). */
export class EpisodeRecorder {
  private obs: number[] = [];
  private act: number[] = [];
  private logp: number[] = [];
  private rew: number[] = [];
  private disc: number[] = [];
  private pending = false;

  constructor(readonly observationSize: number, readonly actionSize: number) {}

  /** The agent acted on `observation`. */
  acted(observation: Float32Array, action: Float32Array, logProb: number): void {
    this.obs.push(...observation);
    this.act.push(...action);
    this.logp.push(logProb);
    this.pending = true;
  }

  /** The environment answered the last action. */
  rewarded(reward: number, discount: number): void {
    if (!this.pending) return;
    this.rew.push(reward);
    this.disc.push(discount);
    this.pending = false;
  }

  get length(): number {
    return this.rew.length;
  }

  /** The episode so far (complete rows only), and a fresh recorder state. */
  take(outcome?: number): EpisodeRecord {
    const n = this.rew.length;
    const rec: EpisodeRecord = {
      length: n,
      observations: Float32Array.from(this.obs.slice(0, n * this.observationSize)),
      actions: Float32Array.from(this.act.slice(0, n * this.actionSize)),
      logProbs: Float32Array.from(this.logp.slice(0, n)),
      rewards: Float32Array.from(this.rew),
      discounts: Float32Array.from(this.disc),
      outcome,
    };
    this.obs = [];
    this.act = [];
    this.logp = [];
    this.rew = [];
    this.disc = [];
    this.pending = false;
    return rec;
  }
}
