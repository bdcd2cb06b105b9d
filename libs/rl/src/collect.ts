import { invalidArgument, type Rng } from '@chameleon/core';
import { StepType, sizeOfShape, type EnvSpec, type TimeSteps } from '@chameleon/envs';
import type { ActResult } from './host-policy';
import { emptyBatch, type TrajectoryBatch } from './trajectory';

/** What collection needs of a vector environment (VectorEnv satisfies it). */
export interface VectorEnvLike {
  readonly spec: EnvSpec;
  readonly numWorlds: number;
  /** Episode limit of these worlds, when lower than the spec's. */
  readonly horizon?: number;
  reset(): TimeSteps;
  step(actions: Float32Array): TimeSteps;
}

/** The same over any transport (the `Worlds` of @chameleon/envs). */
export interface AsyncVectorEnvLike {
  readonly spec: EnvSpec;
  readonly numWorlds: number;
  readonly horizon?: number;
  reset(): Promise<TimeSteps>;
  step(actions: Float32Array): Promise<TimeSteps>;
}

/** Actions for every world: observations [n * obs] -> actions [n * act], log-probs [n]. */
export type ActFn = (observations: Float32Array, n: number, rng: Rng) => ActResult;

export interface CollectOptions {
  /** The task index of each world's episodes (recorded in `taskOf`). Default 0 everywhere. */
  readonly taskOfWorld?: ArrayLike<number>;
}

/**
 * Turns a stream of per-step TimeSteps into whole episodes (an Acme-style adder). World w
 * records exactly `quota[w]` episodes, the first ones it starts after `begin`; later ones
 * are played (the worlds step together) but dropped. Rows are world-major, so the result
 * does not depend on how fast episodes end.
 */
export class EpisodeRecorder {
  readonly batch: TrajectoryBatch;
  private readonly row: Int32Array;
  private readonly t: Int32Array;
  private readonly left: Int32Array;
  private readonly afterLast: Uint8Array;
  private readonly obs: Float32Array;
  private remaining: number;

  constructor(spec: EnvSpec, readonly numWorlds: number, episodes: number, readonly horizon: number, options: CollectOptions = {}) {
    if (!Number.isInteger(episodes) || episodes < 0) throw invalidArgument('episodes', `must be a non-negative integer, got ${episodes}`);
    const O = sizeOfShape(spec.observationShape);
    this.batch = emptyBatch(episodes, horizon, O, sizeOfShape(spec.actionShape));
    this.obs = new Float32Array(numWorlds * O);
    this.row = new Int32Array(numWorlds);
    this.t = new Int32Array(numWorlds);
    this.left = new Int32Array(numWorlds);
    this.afterLast = new Uint8Array(numWorlds);
    let start = 0;
    for (let w = 0; w < numWorlds; w++) {
      this.left[w] = Math.floor(episodes / numWorlds) + (w < episodes % numWorlds ? 1 : 0);
      this.row[w] = start;
      const task = options.taskOfWorld ? options.taskOfWorld[w] : 0;
      if (options.taskOfWorld && !Number.isInteger(task)) throw invalidArgument('taskOfWorld', `world ${w} has no task index`);
      this.batch.taskOf.fill(task, start, start + this.left[w]);
      start += this.left[w];
    }
    this.remaining = episodes;
  }

  /** True once every requested episode is complete. */
  get done(): boolean {
    return this.remaining === 0;
  }

  /** The observations the next actions are taken at: [numWorlds * obs]. */
  get observations(): Float32Array {
    return this.obs;
  }

  /** The FIRST steps returned by reset(). */
  begin(first: TimeSteps): void {
    this.obs.set(first.observations);
    this.afterLast.fill(0);
  }

  /** Records the transitions of one step: the actions taken and the TimeSteps they led to. */
  record(act: ActResult, next: TimeSteps): void {
    const { observationSize: O, actionSize: A, horizon: H } = this.batch;
    const b = this.batch;
    for (let w = 0; w < this.numWorlds; w++) {
      // After LAST the environment started a new episode and ignored the action.
      if (this.afterLast[w] || this.left[w] === 0) {
        this.afterLast[w] = next.stepTypes[w] === StepType.LAST ? 1 : 0;
        continue;
      }
      if (this.t[w] >= H) throw invalidArgument('horizon', `world ${w} played more than ${H} steps without LAST; raise the horizon to the environment's episode limit`);
      const i = this.row[w] * H + this.t[w];
      b.observations.set(this.obs.subarray(w * O, (w + 1) * O), i * O);
      b.actions.set(act.actions.subarray(w * A, (w + 1) * A), i * A);
      b.logProbs[i] = act.logProbs[w];
      b.rewards[i] = next.rewards[w];
      b.discounts[i] = next.discounts[w];
      b.mask[i] = 1;
      this.t[w]++;
      if (next.stepTypes[w] === StepType.LAST) {
        b.finalObservations.set(next.observations.subarray(w * O, (w + 1) * O), this.row[w] * O);
        this.afterLast[w] = 1;
        this.row[w]++;
        this.t[w] = 0;
        this.left[w]--;
        this.remaining--;
      }
    }
    this.obs.set(next.observations);
  }
}

function setup(env: { spec: EnvSpec; numWorlds: number; horizon?: number }, episodes: number, horizon: number, options: CollectOptions) {
  const limit = Math.min(env.horizon ?? env.spec.maxEpisodeSteps, env.spec.maxEpisodeSteps);
  if (!Number.isInteger(horizon) || horizon < limit) throw invalidArgument('horizon', `must be an integer >= the environment's episode limit ${limit}, got ${horizon}`);
  const recorder = new EpisodeRecorder(env.spec, env.numWorlds, episodes, horizon, options);
  // Each world needs at most ceil(E / N) episodes of at most limit + 1 steps (one for the reset).
  const maxSteps = Math.ceil(episodes / env.numWorlds) * (limit + 1) + 1;
  return { recorder, maxSteps };
}

/**
 * Runs whole episodes in a vector environment and returns exactly `episodes` complete ones
 * (world w plays floor(E / N) or ceil(E / N) of them), padded to `horizon`.
 *
 * @example
 *   const env = new VectorEnv(new NavigationEnvironment(), 20, tasks, seed);
 *   const batch = collectEpisodes(env, (o, n, r) => policy.act(theta, o, n, r), 20, 100, rng,
 *     { taskOfWorld: tasks.map((_, i) => i) });
 */
export function collectEpisodes(env: VectorEnvLike, act: ActFn, episodes: number, horizon: number, rng: Rng, options: CollectOptions = {}): TrajectoryBatch {
  const { recorder, maxSteps } = setup(env, episodes, horizon, options);
  recorder.begin(env.reset());
  for (let s = 0; !recorder.done; s++) {
    if (s > maxSteps) throw invalidArgument('env', `episodes did not end within ${maxSteps} steps: the environment ignores its episode limit`);
    const a = act(recorder.observations, env.numWorlds, rng);
    recorder.record(a, env.step(a.actions));
  }
  return recorder.batch;
}

/** {@link collectEpisodes} over an asynchronous transport (e.g. a remote simulator). */
export async function collectEpisodesAsync(env: AsyncVectorEnvLike, act: ActFn, episodes: number, horizon: number, rng: Rng, options: CollectOptions = {}): Promise<TrajectoryBatch> {
  const { recorder, maxSteps } = setup(env, episodes, horizon, options);
  recorder.begin(await env.reset());
  for (let s = 0; !recorder.done; s++) {
    if (s > maxSteps) throw invalidArgument('env', `episodes did not end within ${maxSteps} steps: the environment ignores its episode limit`);
    const a = act(recorder.observations, env.numWorlds, rng);
    recorder.record(a, await env.step(a.actions));
  }
  return recorder.batch;
}
