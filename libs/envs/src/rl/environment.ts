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
}

export const isSequential = (env: unknown): env is SequentialEnvironment =>
  !!env && typeof env === 'object' && (env as { kind?: unknown }).kind === 'sequential';

export const sizeOfShape = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
