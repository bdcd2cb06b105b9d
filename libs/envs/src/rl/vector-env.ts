import { Rng, check, invalidArgument } from '@chameleon/core';
import type { Task } from '@chameleon/tasks';
import { StepType, sizeOfShape, type EnvSpec, type SequentialEnvironment, type TimeSteps, type World } from './environment';

/** Largest number of worlds in one vector environment. */
export const MAX_WORLDS = 4096;

/**
 * N worlds of one environment stepped together, with dm_env semantics: reset gives FIRST
 * steps; a step after LAST starts a new episode (FIRST, the action is ignored); the step
 * after `maxEpisodeSteps` actions is LAST with discount 1 (time limit); a terminal state is
 * LAST with discount 0. Actions are clipped to the spec's bounds.
 *
 * @example
 *   const env = new VectorEnv(navigation, 8, tasks, 1);
 *   let ts = env.reset();
 *   while (ts.stepTypes[0] !== StepType.LAST) ts = env.step(actions);
 */
export class VectorEnv {
  readonly spec: EnvSpec;
  private readonly worlds: World[];
  private tasks: Task[];
  private readonly rngs: Rng[];
  private readonly steps: Int32Array;
  private readonly last: Uint8Array;
  private readonly obsSize: number;
  private readonly actSize: number;
  private readonly scratch: Float32Array;
  private readonly episodes: Int32Array;

  constructor(
    readonly env: SequentialEnvironment,
    readonly numWorlds: number,
    tasks: readonly Task[],
    readonly seed: number,
    readonly horizon = env.spec.maxEpisodeSteps,
  ) {
    check(Number.isInteger(numWorlds) && numWorlds >= 1, 'num_worlds', `must be an integer >= 1, got ${numWorlds}`);
    if (numWorlds > MAX_WORLDS) throw invalidArgument('num_worlds', `at most ${MAX_WORLDS}, got ${numWorlds}`);
    check(Number.isInteger(horizon) && horizon >= 1, 'horizon', `must be an integer >= 1, got ${horizon}`);
    this.spec = env.spec;
    this.worlds = Array.from({ length: numWorlds }, () => env.createWorld());
    this.tasks = this.expandTasks(tasks);
    this.rngs = Array.from({ length: numWorlds }, (_, w) => Rng.fromKeys('world', seed, w));
    this.steps = new Int32Array(numWorlds);
    this.last = new Uint8Array(numWorlds).fill(1);
    this.episodes = new Int32Array(numWorlds);
    this.obsSize = sizeOfShape(env.spec.observationShape);
    this.actSize = sizeOfShape(env.spec.actionShape);
    this.scratch = new Float32Array(this.actSize);
  }

  private expandTasks(tasks: readonly Task[]): Task[] {
    check(tasks.length === 1 || tasks.length === this.numWorlds, 'tasks', `give one task or one per world (${this.numWorlds}), got ${tasks.length}`);
    tasks.forEach((t, i) => {
      if (t.family !== this.env.family) throw invalidArgument(`tasks[${i}].family`, `environment "${this.env.name}" plays "${this.env.family}" tasks, not "${t.family}"`);
      this.env.validateTask?.(t, `tasks[${i}]`);
    });
    return tasks.length === 1 ? Array.from({ length: this.numWorlds }, () => tasks[0]) : [...tasks];
  }

  /** New tasks for the worlds; they take effect at each world's next episode. */
  setTasks(tasks: readonly Task[]): void {
    this.tasks = this.expandTasks(tasks);
  }

  /** Re-seeds world `w` (its next episode draws from the new stream). */
  seedWorld(w: number, rng: Rng): void {
    this.rngs[w] = rng;
  }

  private blank(): TimeSteps {
    const n = this.numWorlds;
    return { stepTypes: new Uint8Array(n), rewards: new Float32Array(n), discounts: new Float32Array(n).fill(1), observations: new Float32Array(n * this.obsSize) };
  }

  private begin(w: number, out: TimeSteps): void {
    this.worlds[w].reset(this.tasks[w], this.rngs[w], out.observations.subarray(w * this.obsSize, (w + 1) * this.obsSize));
    this.steps[w] = 0;
    this.last[w] = 0;
    this.episodes[w]++;
    out.stepTypes[w] = StepType.FIRST;
  }

  /** Starts new episodes in every world. */
  reset(): TimeSteps {
    const out = this.blank();
    for (let w = 0; w < this.numWorlds; w++) this.begin(w, out);
    return out;
  }

  /** One action per world: [N * action size]. */
  step(actions: Float32Array): TimeSteps {
    if (actions.length !== this.numWorlds * this.actSize) {
      throw invalidArgument('actions', `must hold ${this.numWorlds} x ${this.actSize} values, got ${actions.length}`);
    }
    const out = this.blank();
    const { actionMinimum: lo, actionMaximum: hi } = this.spec;
    for (let w = 0; w < this.numWorlds; w++) {
      if (this.last[w]) {
        this.begin(w, out);
        continue;
      }
      for (let j = 0; j < this.actSize; j++) {
        const a = actions[w * this.actSize + j];
        if (Number.isNaN(a)) throw invalidArgument('actions', `element ${w * this.actSize + j} is NaN`);
        this.scratch[j] = a < lo[j] ? lo[j] : a > hi[j] ? hi[j] : a;
      }
      const r = this.worlds[w].step(this.scratch, out.observations.subarray(w * this.obsSize, (w + 1) * this.obsSize));
      this.steps[w]++;
      out.rewards[w] = r.reward;
      if (r.terminated) {
        out.stepTypes[w] = StepType.LAST;
        out.discounts[w] = 0;
        this.last[w] = 1;
      } else if (this.steps[w] >= this.horizon) {
        out.stepTypes[w] = StepType.LAST;
        this.last[w] = 1;
      } else {
        out.stepTypes[w] = StepType.MID;
      }
    }
    return out;
  }

  /** Episodes started per world so far. */
  episodeCounts(): Int32Array {
    return this.episodes.slice();
  }

  close(): void {
    for (const w of this.worlds) w.close?.();
  }
}
