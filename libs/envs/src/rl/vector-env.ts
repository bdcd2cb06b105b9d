import { Rng, check, invalidArgument } from '@chameleon/core';
import type { Task } from '@chameleon/tasks';
import { StepType, agentsPerMatch, sizeOfShape, type EnvSpec, type Match, type SequentialEnvironment, type TimeSteps, type World } from './environment';

/** Largest number of worlds in one vector environment. */
export const MAX_WORLDS = 4096;

/**
 * N worlds of one environment stepped together, with dm_env semantics: reset gives FIRST
 * steps; a step after LAST starts a new episode (FIRST, the action is ignored); the step
 * after `maxEpisodeSteps` actions is LAST with discount 1 (time limit); a terminal state is
 * LAST with discount 0. Actions are clipped to the spec's bounds.
 *
 * Multi-agent environments (`agentsPerMatch` = k > 1): world w is agent w % k of match
 * floor(w / k), so `numWorlds` must be a multiple of k. Every agent's action arrives in the same
 * `step` call; the k worlds of a match share step types (FIRST, MID and LAST together), the
 * time limit counts per match, a terminated match is LAST with discount 0 for all its agents,
 * and `outcomes` ([N], +1 win / -1 loss / 0 draw) is non-zero only on the LAST step of a
 * decided match. A match draws from the stream of its first world (`seedWorld(m * k)`).
 *
 * @example
 *   const env = new VectorEnv(navigation, 8, tasks, 1);
 *   let ts = env.reset();
 *   while (ts.stepTypes[0] !== StepType.LAST) ts = env.step(actions);
 */
export class VectorEnv {
  readonly spec: EnvSpec;
  private readonly worlds: World[];
  /** Agents per match (1: every world is its own episode). */
  readonly agentsPerMatch: number;
  private readonly matches: Match[];
  private readonly matchScratch: Float32Array[];
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
    const k = agentsPerMatch(env);
    this.agentsPerMatch = k;
    if (k === 1) {
      this.worlds = Array.from({ length: numWorlds }, () => env.createWorld());
      this.matches = [];
      this.tasks = this.expandTasks(tasks);
    } else {
      check(Number.isInteger(k) && k > 1 && typeof env.createMatch === 'function', 'environment', `"${env.name}" must declare an integer agentsPerMatch >= 1, and createMatch() when it is > 1; got ${k}${env.createMatch ? '' : ' without createMatch()'}`);
      if (numWorlds % k !== 0) throw invalidArgument('num_worlds', `"${env.name}" has ${k} agents per match: world w is agent w % ${k} of match floor(w / ${k}), so num_worlds must be a multiple of ${k}, got ${numWorlds}`);
      this.worlds = [];
      this.tasks = this.expandTasks(tasks);
      this.matches = Array.from({ length: numWorlds / k }, () => env.createMatch!());
    }
    this.rngs = Array.from({ length: numWorlds }, (_, w) => Rng.fromKeys('world', seed, w));
    this.steps = new Int32Array(numWorlds);
    this.last = new Uint8Array(numWorlds).fill(1);
    this.episodes = new Int32Array(numWorlds);
    this.obsSize = sizeOfShape(env.spec.observationShape);
    this.actSize = sizeOfShape(env.spec.actionShape);
    this.scratch = new Float32Array(this.actSize);
    this.matchScratch = Array.from({ length: k > 1 ? k : 0 }, () => new Float32Array(this.actSize));
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
    const ts = { stepTypes: new Uint8Array(n), rewards: new Float32Array(n), discounts: new Float32Array(n).fill(1), observations: new Float32Array(n * this.obsSize) };
    return this.agentsPerMatch > 1 ? { ...ts, outcomes: new Int8Array(n) } : ts;
  }

  private views(out: TimeSteps, m: number): Float32Array[] {
    const k = this.agentsPerMatch;
    return Array.from({ length: k }, (_, a) => out.observations.subarray((m * k + a) * this.obsSize, (m * k + a + 1) * this.obsSize));
  }

  private beginMatch(m: number, out: TimeSteps): void {
    const k = this.agentsPerMatch;
    const w0 = m * k;
    this.matches[m].reset(this.tasks.slice(w0, w0 + k), this.rngs[w0], this.views(out, m));
    for (let w = w0; w < w0 + k; w++) {
      this.steps[w] = 0;
      this.last[w] = 0;
      this.episodes[w]++;
      out.stepTypes[w] = StepType.FIRST;
    }
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
    if (this.agentsPerMatch > 1) this.matches.forEach((_, m) => this.beginMatch(m, out));
    else for (let w = 0; w < this.numWorlds; w++) this.begin(w, out);
    return out;
  }

  /** One action per world: [N * action size]. */
  step(actions: Float32Array): TimeSteps {
    if (actions.length !== this.numWorlds * this.actSize) {
      throw invalidArgument('actions', `must hold ${this.numWorlds} x ${this.actSize} values, got ${actions.length}`);
    }
    if (this.agentsPerMatch > 1) return this.stepMatches(actions);
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

  private stepMatches(actions: Float32Array): TimeSteps {
    // Checked before any match moves, so a refused call leaves every match where it was.
    const bad = actions.findIndex((a) => Number.isNaN(a));
    if (bad >= 0) throw invalidArgument('actions', `element ${bad} is NaN`);
    const out = this.blank();
    const outcomes = out.outcomes as Int8Array;
    const k = this.agentsPerMatch;
    const { actionMinimum: lo, actionMaximum: hi } = this.spec;
    for (let m = 0; m < this.matches.length; m++) {
      const w0 = m * k;
      if (this.last[w0]) {
        this.beginMatch(m, out);
        continue;
      }
      for (let a = 0; a < k; a++) {
        const base = (w0 + a) * this.actSize;
        const s = this.matchScratch[a];
        for (let j = 0; j < this.actSize; j++) {
          const x = actions[base + j];
          s[j] = x < lo[j] ? lo[j] : x > hi[j] ? hi[j] : x;
        }
      }
      const r = this.matches[m].step(this.matchScratch, this.views(out, m));
      const timeUp = this.steps[w0] + 1 >= this.horizon;
      for (let a = 0; a < k; a++) {
        const w = w0 + a;
        this.steps[w]++;
        out.rewards[w] = r.rewards[a];
        if (r.terminated) {
          out.stepTypes[w] = StepType.LAST;
          out.discounts[w] = 0;
          outcomes[w] = Math.sign(r.outcomes?.[a] ?? 0);
          this.last[w] = 1;
        } else if (timeUp) {
          out.stepTypes[w] = StepType.LAST;
          this.last[w] = 1;
        } else {
          out.stepTypes[w] = StepType.MID;
        }
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
    for (const m of this.matches) m.close?.();
  }
}
