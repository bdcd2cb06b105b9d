import { z } from 'zod';
import { invalidArgument, type Rng } from '@chameleon/core';
import type { Task } from '@chameleon/tasks';
import type { EnvSpec, SequentialEnvironment, World } from '../rl/environment';
import { ensureMujoco } from './runtime';
import { MjSim } from './sim';

/** What every MuJoCo world needs besides its model. */
export interface MujocoWorldConfig {
  /** Physics steps per environment step. */
  readonly frameSkip: number;
  /** Std of the Gaussian added to each non-quaternion qpos coordinate at reset. */
  readonly qposNoise: number;
  /** Std of the Gaussian added to each qvel coordinate at reset. */
  readonly qvelNoise: number;
}

/**
 * The skeleton of a task-conditioned MuJoCo world: clip, scale, step `frameSkip` times,
 * observe, score. Subclasses say what a task means (`beginEpisode`), what the agent sees
 * (`observe`) and how it is scored (`evaluate`).
 *
 * Hooks for nonstationary dynamics (continuous adaptation): `actuatorScale` multiplies each
 * clipped action component before it reaches the motors, every step; it is reset to 1 at each
 * episode start, before `beginEpisode`, which may set it from the task, the world's episode
 * count and its random stream (e.g. two legs whose torque factor drifts from episode to
 * episode). Actuators are not ctrl-limited in our models, so a scale s is exactly a gear
 * scale s. Control costs use the agent's clipped action, not the scaled one.
 */
export abstract class MujocoWorld implements World {
  protected readonly sim: MjSim;
  readonly actuatorScale: Float64Array;
  /** The clipped action of the current step, in [-1, 1]. */
  protected readonly action: Float64Array;
  /** Episodes started by this world, counting the current one (1 during the first). */
  protected episodes = 0;

  constructor(
    xml: string,
    protected readonly base: MujocoWorldConfig,
  ) {
    this.sim = new MjSim(xml);
    this.actuatorScale = new Float64Array(this.sim.nu).fill(1);
    this.action = new Float64Array(this.sim.nu);
  }

  /**
   * Reads the task's parameters (throwing INVALID_ARGUMENT naming the field) and may set
   * `actuatorScale`; `rng` is the world's stream, drawn before the reset noise.
   */
  protected abstract beginEpisode(task: Task, rng: Rng): void;
  /** Writes the observation of the current state. */
  protected abstract observe(obs: Float32Array): void;
  /** Reward of the transition just simulated, and whether the new state is terminal. */
  protected abstract evaluate(action: Float64Array): { reward: number; terminated: boolean };
  /** Runs after every reset and physics step, before `observe` (e.g. contact forces). */
  protected afterPhysics(): void {}

  reset(task: Task, rng: Rng, obs: Float32Array): void {
    this.actuatorScale.fill(1);
    this.episodes++;
    this.beginEpisode(task, rng);
    this.sim.reset(rng, this.base.qposNoise, this.base.qvelNoise);
    this.afterPhysics();
    this.observe(obs);
  }

  step(action: Float32Array, obs: Float32Array): { reward: number; terminated: boolean } {
    const ctrl = this.sim.views().ctrl;
    for (let i = 0; i < this.action.length; i++) {
      // VectorEnv clips already; clipping again keeps direct users of World within the spec.
      const a = action[i] < -1 ? -1 : action[i] > 1 ? 1 : action[i];
      this.action[i] = a;
      ctrl[i] = a * this.actuatorScale[i];
    }
    this.sim.step(this.base.frameSkip);
    this.afterPhysics();
    this.observe(obs);
    return this.evaluate(this.action);
  }

  close(): void {
    this.sim.close();
  }
}

export const squaredNorm = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
};

/** Spec of a locomotion environment: flat observations, actions in [-1, 1]^nu. */
export const locomotionSpec = (observationSize: number, actuators: number, horizon: number): EnvSpec => ({
  observationShape: [observationSize],
  actionShape: [actuators],
  actionMinimum: new Array<number>(actuators).fill(-1),
  actionMaximum: new Array<number>(actuators).fill(1),
  maxEpisodeSteps: horizon,
});

/**
 * A MuJoCo environment: a spec, a family, a task check and a world factory. `createWorld`
 * throws FAILED_PRECONDITION until `await ensureMujoco()` has completed in this process;
 * everything else works without MuJoCo.
 */
export class MujocoEnvironment implements SequentialEnvironment {
  readonly kind = 'sequential' as const;

  constructor(
    readonly name: string,
    readonly version: string,
    readonly description: string,
    readonly family: string,
    readonly spec: EnvSpec,
    private readonly make: () => World,
    /** Throws INVALID_ARGUMENT naming `<field>.params.<name>` for unusable task params. */
    private readonly checkTask: (task: Task, field: string) => void,
  ) {}

  /** Checks a task's params up front (VectorEnv and the simulator call it before any world runs). */
  validateTask(task: Task, field: string): void {
    this.checkTask(task, field);
  }

  /** Resolves once worlds can be created (loads MuJoCo if needed); a generic readiness hook. */
  async ready(): Promise<void> {
    await ensureMujoco();
  }

  createWorld(): World {
    return this.make();
  }
}

/** Config fields every locomotion environment shares; `ctrlCostCoeff` differs per body. */
export const locomotionFields = (ctrlCostCoeff: number) => ({
  /** Environment steps per episode (time limit, discount 1). Default 200 (MAML). */
  horizon: z.number().int().min(1).max(100000).default(200),
  /** Physics steps per environment step. Default 5 (0.05 s per step at the default timestep). */
  frameSkip: z.number().int().min(1).max(100).default(5),
  /** Physics integration step, seconds. Default 0.01. */
  timestep: z.number().positive().max(0.1).default(0.01),
  /** Weight of the control cost |a|^2 (a = clipped action). Default per environment. */
  ctrlCostCoeff: z.number().min(0).default(ctrlCostCoeff),
  /** Std of the Gaussian reset noise on positions (rllab: 0.01). Default 0.01. */
  qposNoise: z.number().min(0).default(0.01),
  /** Std of the Gaussian reset noise on velocities (rllab: 0.1). Default 0.1. */
  qvelNoise: z.number().min(0).default(0.1),
});

/** A `[low, high]` range with a default. */
export const rangeField = (lo: number, hi: number) =>
  z
    .tuple([z.number(), z.number()])
    .refine(([a, b]) => a <= b, 'range must be [low, high] with low <= high')
    .default([lo, hi]);

/** A finite number parameter of a task; INVALID_ARGUMENT names `<field>.params.<name>`. */
export function numberParam(task: Task, name: string, field = 'task'): number {
  const v = task.params[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidArgument(`${field}.params.${name}`, `must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/** A direction parameter: exactly -1 or 1. */
export function directionParam(task: Task, field = 'task'): -1 | 1 {
  const d = task.params.direction;
  if (d !== 1 && d !== -1) throw invalidArgument(`${field}.params.direction`, `must be 1 or -1, got ${JSON.stringify(d)}`);
  return d;
}
