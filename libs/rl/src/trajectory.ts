import { invalidArgument } from '@chameleon/core';

/**
 * E episodes padded to horizon H, on the host, row-major. Step t of episode e is at
 * e * H + t. Real steps form a prefix of each row (mask 1), padding follows (mask 0, and
 * zeros everywhere else).
 *
 * `discounts[e, t]` is the discount of the transition taken at step t: 0 when it reached a
 * terminal state (nothing to bootstrap from), 1 otherwise — including the last step of an
 * episode cut by a time limit, whose value is then `finalObservations[e]`'s.
 */
export interface TrajectoryBatch {
  readonly episodes: number;
  readonly horizon: number;
  readonly observationSize: number;
  readonly actionSize: number;
  /** [E, H, obs]: the observation each action was taken at. */
  readonly observations: Float32Array;
  /** [E, H, act]: the actions as sampled (before the environment clips them). */
  readonly actions: Float32Array;
  /** [E, H]: reward of each transition. */
  readonly rewards: Float32Array;
  /** [E, H]: log-probability of each action under the behaviour policy. */
  readonly logProbs: Float32Array;
  /** [E, H]: 1 for real steps, 0 for padding. */
  readonly mask: Float32Array;
  /** [E, H]: 0 after a terminal transition, else 1 (0 on padding). */
  readonly discounts: Float32Array;
  /** [E, obs]: the observation after each episode's last action (for bootstrapping at time limits). */
  readonly finalObservations: Float32Array;
  /** [E]: the task each episode was played on. */
  readonly taskOf: Int32Array;
}

/** An empty (all-padding) batch of the given sizes. */
export function emptyBatch(episodes: number, horizon: number, observationSize: number, actionSize: number): TrajectoryBatch {
  const n = episodes * horizon;
  return {
    episodes,
    horizon,
    observationSize,
    actionSize,
    observations: new Float32Array(n * observationSize),
    actions: new Float32Array(n * actionSize),
    rewards: new Float32Array(n),
    logProbs: new Float32Array(n),
    mask: new Float32Array(n),
    discounts: new Float32Array(n),
    finalObservations: new Float32Array(episodes * observationSize),
    taskOf: new Int32Array(episodes),
  };
}

/** Number of real steps of episode e. */
export function episodeLength(b: TrajectoryBatch, e: number): number {
  let len = 0;
  while (len < b.horizon && b.mask[e * b.horizon + len] > 0) len++;
  return len;
}

/** Throws INVALID_ARGUMENT (naming `field`) unless every array has its documented size and masks are prefixes. */
export function validateBatch(b: TrajectoryBatch, field = 'trajectories'): void {
  const { episodes: E, horizon: H, observationSize: O, actionSize: A } = b;
  if (!Number.isInteger(E) || E < 0 || !Number.isInteger(H) || H < 1) throw invalidArgument(field, `needs integer episodes >= 0 and horizon >= 1, got ${E} and ${H}`);
  const sizes: Array<[string, ArrayLike<number>, number]> = [
    ['observations', b.observations, E * H * O],
    ['actions', b.actions, E * H * A],
    ['rewards', b.rewards, E * H],
    ['logProbs', b.logProbs, E * H],
    ['mask', b.mask, E * H],
    ['discounts', b.discounts, E * H],
    ['finalObservations', b.finalObservations, E * O],
    ['taskOf', b.taskOf, E],
  ];
  for (const [name, arr, n] of sizes) if (arr.length !== n) throw invalidArgument(`${field}.${name}`, `must hold ${n} values for ${E} episodes x horizon ${H}, got ${arr.length}`);
  for (let e = 0; e < E; e++) {
    const len = episodeLength(b, e);
    for (let t = len; t < H; t++) if (b.mask[e * H + t] !== 0) throw invalidArgument(`${field}.mask`, `episode ${e}: real steps must form a prefix (step ${t} follows padding)`);
  }
}

/** The episodes at the given indices, in that order. */
export function selectEpisodes(b: TrajectoryBatch, indices: readonly number[]): TrajectoryBatch {
  const out = emptyBatch(indices.length, b.horizon, b.observationSize, b.actionSize);
  const { horizon: H, observationSize: O, actionSize: A } = b;
  indices.forEach((e, k) => {
    if (!Number.isInteger(e) || e < 0 || e >= b.episodes) throw invalidArgument('episodes', `index ${e} outside [0, ${b.episodes})`);
    out.observations.set(b.observations.subarray(e * H * O, (e + 1) * H * O), k * H * O);
    out.actions.set(b.actions.subarray(e * H * A, (e + 1) * H * A), k * H * A);
    for (const key of ['rewards', 'logProbs', 'mask', 'discounts'] as const) out[key].set(b[key].subarray(e * H, (e + 1) * H), k * H);
    out.finalObservations.set(b.finalObservations.subarray(e * O, (e + 1) * O), k * O);
    out.taskOf[k] = b.taskOf[e];
  });
  return out;
}

/** The episodes played on `task`. */
export function sliceByTask(b: TrajectoryBatch, task: number): TrajectoryBatch {
  const idx: number[] = [];
  for (let e = 0; e < b.episodes; e++) if (b.taskOf[e] === task) idx.push(e);
  return selectEpisodes(b, idx);
}

/** One batch per task 0..tasks-1 (a task with no episodes gets an empty batch). */
export function splitByTask(b: TrajectoryBatch, tasks: number): TrajectoryBatch[] {
  return Array.from({ length: tasks }, (_, i) => sliceByTask(b, i));
}

/**
 * Batches of the same sizes side by side, padded to the largest horizon and, when
 * `episodes` is given, to that many episodes (extra rows are all padding).
 */
export function concatBatches(batches: readonly TrajectoryBatch[], episodes?: number): TrajectoryBatch {
  if (batches.length === 0) throw invalidArgument('batches', 'need at least one batch');
  const { observationSize: O, actionSize: A } = batches[0];
  const H = Math.max(...batches.map((b) => b.horizon));
  const total = batches.reduce((s, b) => s + b.episodes, 0);
  const out = emptyBatch(Math.max(total, episodes ?? 0), H, O, A);
  let row = 0;
  batches.forEach((b, i) => {
    if (b.observationSize !== O || b.actionSize !== A) throw invalidArgument(`batches[${i}]`, `sizes ${b.observationSize}/${b.actionSize} differ from ${O}/${A}`);
    for (let e = 0; e < b.episodes; e++, row++) {
      for (let t = 0; t < b.horizon; t++) {
        const [src, dst] = [e * b.horizon + t, row * H + t];
        out.observations.set(b.observations.subarray(src * O, (src + 1) * O), dst * O);
        out.actions.set(b.actions.subarray(src * A, (src + 1) * A), dst * A);
        for (const key of ['rewards', 'logProbs', 'mask', 'discounts'] as const) out[key][dst] = b[key][src];
      }
      out.finalObservations.set(b.finalObservations.subarray(e * O, (e + 1) * O), row * O);
      out.taskOf[row] = b.taskOf[e];
    }
  });
  return out;
}

/** Sum of rewards of each episode [E] (undiscounted return, what learning curves report). */
export function episodeReturns(b: TrajectoryBatch): Float32Array {
  const out = new Float32Array(b.episodes);
  for (let e = 0; e < b.episodes; e++) for (let t = 0; t < b.horizon; t++) out[e] += b.rewards[e * b.horizon + t] * b.mask[e * b.horizon + t];
  return out;
}
