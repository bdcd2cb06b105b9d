import type { Rng } from '@chameleon/core';
import type { Task } from '@chameleon/tasks';

/** dm_env's StepType, with the contract's numbering. */
export const StepType = { FIRST: 1, MID: 2, LAST: 3 } as const;
export type StepTypeValue = (typeof StepType)[keyof typeof StepType];

/** Shapes and bounds of a sequential environment. */
export interface EnvSpec {
  readonly observationShape: readonly number[];
  readonly actionShape: readonly number[];
  /** Per-element lower bound of actions (length = product of actionShape). */
  readonly actionMinimum: readonly number[];
  /** Per-element upper bound of actions. */
  readonly actionMaximum: readonly number[];
  /** The step after this many actions is LAST (a time limit, discount 1). */
  readonly maxEpisodeSteps: number;
}

/** Time steps of N worlds; arrays have a leading world axis. */
export interface TimeSteps {
  /** [N] StepType values. */
  readonly stepTypes: Uint8Array;
  /** [N] reward of the transition into this step (0 on FIRST). */
  readonly rewards: Float32Array;
  /** [N] 0 at terminal states, else 1. */
  readonly discounts: Float32Array;
  /** [N * observation size] */
  readonly observations: Float32Array;
  /**
   * [N] Multi-agent environments only (`agentsPerMatch` > 1): +1 win, -1 loss, 0 draw, on the
   * LAST step of a decided match; 0 on every other step (including a time-limit LAST).
   */
  readonly outcomes?: Int8Array;
}

/**
 * One world's dynamics: what a new environment implements. Time limits, step types,
 * action clipping and resets are handled by {@link VectorEnv}.
 */
export interface World {
  /** Starts an episode of `task`; returns the first observation (written into `obs`). */
  reset(task: Task, rng: Rng, obs: Float32Array): void;
  /** Applies a (clipped) action; writes the next observation; returns reward and termination. */
  step(action: Float32Array, obs: Float32Array): { reward: number; terminated: boolean };
  close?(): void;
}

/** What one step of a match returns. */
export interface MatchStep {
  /** One reward per agent. */
  readonly rewards: readonly number[];
  /** The match is over (terminal for every agent: discount 0). */
  readonly terminated: boolean;
  /** Per agent, on the terminal step: +1 win, -1 loss, 0 draw. Ignored unless `terminated`. */
  readonly outcomes?: readonly number[];
}

/**
 * k agents sharing one simulated world (e.g. two sumo wrestlers in a ring): what a
 * multi-agent environment implements instead of {@link World}. Each agent has the
 * environment's spec; {@link VectorEnv} gives agent a of match m world index m * k + a.
 */
export interface Match {
  /** Starts an episode; `tasks` and `obs` hold one entry per agent. */
  reset(tasks: readonly Task[], rng: Rng, obs: readonly Float32Array[]): void;
  /** Applies one (clipped) action per agent; writes every agent's next observation. */
  step(actions: readonly Float32Array[], obs: readonly Float32Array[]): MatchStep;
  close?(): void;
}

/** A sequential environment plugin instance: a spec and a factory of worlds. */
export interface SequentialEnvironment {
  readonly kind: 'sequential';
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly spec: EnvSpec;
  /** The task family whose tasks this environment plays. */
  readonly family: string;
  createWorld(): World;
  /** Loads what createWorld needs (e.g. the MuJoCo wasm module); idempotent. */
  ready?(): Promise<void>;
  /** Throws INVALID_ARGUMENT naming `field` when a task's params are unusable (checked up front). */
  validateTask?(task: Task, field: string): void;
  /**
   * Agents per match (default 1). When k > 1 the environment is played through
   * {@link createMatch}: worlds come in consecutive blocks of k (one per agent), step together
   * and end together; `createWorld` may then throw.
   */
  readonly agentsPerMatch?: number;
  /** One match of `agentsPerMatch` agents; required when `agentsPerMatch` > 1. */
  createMatch?(): Match;
}

export const isSequential = (env: unknown): env is SequentialEnvironment =>
  !!env && typeof env === 'object' && (env as { kind?: unknown }).kind === 'sequential';

/** Agents per match of an environment: 1 unless it declares more. */
export const agentsPerMatch = (env: Pick<SequentialEnvironment, 'agentsPerMatch'>): number => env.agentsPerMatch ?? 1;

export const sizeOfShape = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
