import { Rng, check, invalidArgument, resourceExhausted } from '@chameleon/core';
import { StepType, VectorEnv, sizeOfShape, type SequentialEnvironment } from '@chameleon/envs';
import type { Task } from '@chameleon/tasks';

/** What the simulator needs of a policy: its parameter spec and host-side sampling. */
export interface ActingPolicy {
  readonly spec: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>;
  readonly observationSize: number;
  readonly actionSize: number;
  act(params: readonly Float32Array[], obs: Float32Array, n: number, rng: Rng, deterministic?: boolean): { actions: Float32Array; logProbs: Float32Array };
  /**
   * Optional: act on n rows at once with the standard-normal draws given (noise [n * act];
   * zeros for the mean). When present, each world's draws come from its own stream and the
   * whole group acts in one call: the same actions as `act` world by world.
   */
  actWithNoise?(params: readonly Float32Array[], obs: Float32Array, n: number, noise: Float64Array): { actions: Float32Array; logProbs: Float32Array };
}

export interface EpisodeId {
  readonly task: number;
  readonly episode: number;
}

/** A contiguous run of one episode's rows in a chunk. */
export interface Segment {
  episode: EpisodeId;
  offset: number;
  length: number;
  startStep: number;
  complete: boolean;
  episodeReturn: number;
  /** The observation after the episode's last action (complete segments only). */
  finalObservation?: Float32Array;
}

/** Rows of one or more episodes (host form of TrajectoryChunk). */
export interface Chunk {
  segments: Segment[];
  rows: number;
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  logProbs: Float32Array;
  stepTypes: Uint8Array;
  discounts: Float32Array;
}

export interface RolloutPlan {
  readonly env: SequentialEnvironment;
  readonly tasks: readonly Task[];
  readonly episodes: readonly EpisodeId[];
  /** One parameter list for all tasks, or one per task. */
  readonly params: ReadonlyArray<readonly Float32Array[]>;
  readonly horizon: number;
  readonly seed: number;
  readonly chunkSteps: number;
  readonly parallelWorlds: number;
  readonly deterministic: boolean;
}

export const MAX_EPISODES_PER_REQUEST = 100_000;
export const MAX_HORIZON = 100_000;

/** Checks a plan against its environment and policy before any step is taken. */
export function validatePlan(plan: RolloutPlan, policy: ActingPolicy): void {
  const { env, tasks, episodes, params } = plan;
  check(tasks.length > 0, 'tasks', 'at least one task is required');
  check(episodes.length > 0, 'episodes', 'at least one episode is required');
  if (episodes.length > MAX_EPISODES_PER_REQUEST) throw resourceExhausted('episodes', `at most ${MAX_EPISODES_PER_REQUEST} per request, got ${episodes.length}`);
  const seen = new Set<string>();
  episodes.forEach((e, i) => {
    check(e.task < tasks.length, `episodes[${i}].task`, `must index the ${tasks.length} task(s), got ${e.task}`);
    const key = `${e.task}/${e.episode}`;
    check(!seen.has(key), `episodes[${i}]`, `episode ${key} is listed twice`);
    seen.add(key);
  });
  check(plan.horizon >= 1 && plan.horizon <= MAX_HORIZON, 'horizon', `must be 1..${MAX_HORIZON}, got ${plan.horizon}`);
  check(params.length === 1 || params.length === tasks.length, 'policy_params', `give one parameter list, or one per task (${tasks.length}); got ${params.length}`);
  const obs = sizeOfShape(env.spec.observationShape);
  const act = sizeOfShape(env.spec.actionShape);
  check(policy.observationSize === obs, 'policy.config.observationSize', `must be ${obs} for "${env.name}", got ${policy.observationSize}`);
  check(policy.actionSize === act, 'policy.config.actionSize', `must be ${act} for "${env.name}", got ${policy.actionSize}`);
  params.forEach((list, t) => {
    check(list.length === policy.spec.length, `policy_params[${t}]`, `expected ${policy.spec.length} tensors, got ${list.length}`);
    list.forEach((v, i) => {
      const n = sizeOfShape(policy.spec[i].shape);
      check(v.length === n, `policy_params[${t}].tensors[${i}]`, `${policy.spec[i].name} needs ${n} values, got ${v.length}`);
      for (let j = 0; j < v.length; j++) if (!Number.isFinite(v[j])) throw invalidArgument(`policy_params[${t}].tensors[${i}]`, `${policy.spec[i].name} element ${j} is not finite`);
    });
  });
}

/** One world's rows not yet streamed: a contiguous run of its episode. */
class WorldRows {
  rows = 0;
  startStep = 0;
  complete = false;
  episodeReturn = 0;
  finalObservation?: Float32Array;
  readonly obs: Float32Array;
  readonly act: Float32Array;
  readonly reward: Float32Array;
  readonly logp: Float32Array;
  readonly type: Uint8Array;
  readonly discount: Float32Array;

  constructor(readonly episode: EpisodeId, capacity: number, readonly obsSize: number, readonly actSize: number) {
    this.obs = new Float32Array(capacity * obsSize);
    this.act = new Float32Array(capacity * actSize);
    this.reward = new Float32Array(capacity);
    this.logp = new Float32Array(capacity);
    this.type = new Uint8Array(capacity);
    this.discount = new Float32Array(capacity);
  }

  /** Drops the first k rows (they were streamed). */
  shift(k: number): void {
    const rest = this.rows - k;
    this.obs.copyWithin(0, k * this.obsSize, this.rows * this.obsSize);
    this.act.copyWithin(0, k * this.actSize, this.rows * this.actSize);
    for (const a of [this.reward, this.logp, this.discount]) a.copyWithin(0, k, this.rows);
    this.type.copyWithin(0, k, this.rows);
    this.rows = rest;
    this.startStep += k;
  }
}

/**
 * Buffers each world's rows and cuts chunks of at most `capacity` rows in which every
 * episode's rows are contiguous (one segment per episode and chunk).
 */
class ChunkBuilder {
  private worlds: WorldRows[] = [];
  private pending = 0;

  constructor(private readonly capacity: number, private readonly obsSize: number, private readonly actSize: number) {}

  /** A new wave: one buffer per world. */
  begin(episodes: readonly EpisodeId[]): void {
    // A world gains one row per step and a chunk is cut whenever `capacity` rows wait, so
    // no world ever holds more than capacity + 1 rows.
    this.worlds = episodes.map((e) => new WorldRows(e, this.capacity + 1, this.obsSize, this.actSize));
    this.pending = 0;
  }

  get ready(): boolean {
    return this.pending >= this.capacity;
  }

  get empty(): boolean {
    return this.pending === 0;
  }

  add(w: number, step: number, obs: Float32Array, action: Float32Array, reward: number, logProb: number, discount: number, returnSoFar: number, final?: Float32Array): void {
    const complete = final !== undefined;
    const b = this.worlds[w];
    if (b.rows === 0) b.startStep = step;
    const r = b.rows++;
    b.obs.set(obs, r * this.obsSize);
    b.act.set(action, r * this.actSize);
    b.reward[r] = reward;
    b.logp[r] = logProb;
    b.type[r] = step === 0 ? StepType.FIRST : StepType.MID;
    b.discount[r] = discount;
    b.complete = complete;
    b.episodeReturn = returnSoFar;
    if (final) b.finalObservation = final.slice();
    this.pending++;
  }

  /** Cuts one chunk of at most `capacity` rows. */
  take(): Chunk {
    const n = Math.min(this.capacity, this.pending);
    const c: Chunk = {
      segments: [],
      rows: n,
      observations: new Float32Array(n * this.obsSize),
      actions: new Float32Array(n * this.actSize),
      rewards: new Float32Array(n),
      logProbs: new Float32Array(n),
      stepTypes: new Uint8Array(n),
      discounts: new Float32Array(n),
    };
    let used = 0;
    for (const b of this.worlds) {
      if (used === n) break;
      if (b.rows === 0) continue;
      const k = Math.min(b.rows, n - used);
      c.observations.set(b.obs.subarray(0, k * this.obsSize), used * this.obsSize);
      c.actions.set(b.act.subarray(0, k * this.actSize), used * this.actSize);
      c.rewards.set(b.reward.subarray(0, k), used);
      c.logProbs.set(b.logp.subarray(0, k), used);
      c.stepTypes.set(b.type.subarray(0, k), used);
      c.discounts.set(b.discount.subarray(0, k), used);
      const ends = b.complete && k === b.rows;
      c.segments.push({ episode: b.episode, offset: used, length: k, startStep: b.startStep, complete: ends, episodeReturn: ends ? b.episodeReturn : 0, finalObservation: ends ? b.finalObservation : undefined });
      b.shift(k);
      used += k;
    }
    this.pending -= n;
    return c;
  }
}

/**
 * Runs the plan's episodes in waves of `parallelWorlds` worlds with the policy next to the
 * simulator, emitting chunks of at most `chunkSteps` rows. An episode's randomness depends
 * only on (seed, task id, episode number), so any replica reproduces any episode exactly.
 * `emit` may apply backpressure; `checkpoint` is called between chunks and may throw to stop.
 */
export async function runRollouts(plan: RolloutPlan, policy: ActingPolicy, emit: (c: Chunk) => Promise<void>, checkpoint: () => void): Promise<number> {
  const obsSize = sizeOfShape(plan.env.spec.observationShape);
  const actSize = sizeOfShape(plan.env.spec.actionShape);
  const builder = new ChunkBuilder(plan.chunkSteps, obsSize, actSize);
  let stepsTaken = 0;
  for (let start = 0; start < plan.episodes.length; start += plan.parallelWorlds) {
    const wave = plan.episodes.slice(start, start + plan.parallelWorlds);
    const n = wave.length;
    const env = new VectorEnv(plan.env, n, wave.map((e) => plan.tasks[e.task]), plan.seed, plan.horizon);
    builder.begin(wave);
    try {
      const policyRngs = wave.map((e) => Rng.fromKeys('policy', plan.seed, plan.tasks[e.task].id, e.episode));
      wave.forEach((e, w) => env.seedWorld(w, Rng.fromKeys('env', plan.seed, plan.tasks[e.task].id, e.episode)));
      // Worlds grouped by the parameter list they act with.
      const groups = new Map<number, number[]>();
      wave.forEach((e, w) => {
        const p = plan.params.length === 1 ? 0 : e.task;
        groups.set(p, [...(groups.get(p) ?? []), w]);
      });
      let ts = env.reset();
      const done = new Uint8Array(n);
      const returns = new Float64Array(n);
      const actions = new Float32Array(n * actSize);
      const logProbs = new Float32Array(n);
      for (let t = 0; t < plan.horizon && done.some((d) => !d); t++) {
        for (const [p, worlds] of groups) {
          const obs = new Float32Array(worlds.length * obsSize);
          worlds.forEach((w, k) => obs.set(ts.observations.subarray(w * obsSize, (w + 1) * obsSize), k * obsSize));
          // Each world samples from its own stream, so grouping never changes an episode.
          if (policy.actWithNoise) {
            const noise = new Float64Array(worlds.length * actSize);
            if (!plan.deterministic) worlds.forEach((w, k) => { for (let j = 0; j < actSize; j++) noise[k * actSize + j] = policyRngs[w].normal(); });
            const r = policy.actWithNoise(plan.params[p], obs, worlds.length, noise);
            worlds.forEach((w, k) => {
              actions.set(r.actions.subarray(k * actSize, (k + 1) * actSize), w * actSize);
              logProbs[w] = r.logProbs[k];
            });
          } else {
            worlds.forEach((w, k) => {
              const r = policy.act(plan.params[p], obs.subarray(k * obsSize, (k + 1) * obsSize), 1, policyRngs[w], plan.deterministic);
              actions.set(r.actions, w * actSize);
              logProbs[w] = r.logProbs[0];
            });
          }
        }
        const before = ts.observations;
        ts = env.step(actions);
        stepsTaken++;
        for (let w = 0; w < n; w++) {
          if (done[w]) continue;
          returns[w] += ts.rewards[w];
          const last = ts.stepTypes[w] === StepType.LAST;
          const after = ts.observations.subarray(w * obsSize, (w + 1) * obsSize);
          builder.add(w, t, before.subarray(w * obsSize, (w + 1) * obsSize), actions.subarray(w * actSize, (w + 1) * actSize), ts.rewards[w], logProbs[w], ts.discounts[w], returns[w], last ? after : undefined);
          if (last) done[w] = 1;
        }
        while (builder.ready) {
          await emit(builder.take());
          checkpoint();
        }
      }
      // The wave's episodes are complete: stream what is left before the next wave.
      while (!builder.empty) await emit(builder.take());
    } finally {
      env.close();
    }
  }
  return stepsTaken;
}
