import * as grpc from '@grpc/grpc-js';
import { ChameleonError, unavailable } from '@chameleon/core';
import type { EnvironmentSimulatorServiceClient, EpisodeRef, StreamRolloutsRequest, StreamRolloutsResponse, TrajectoryBatch } from '@chameleon/proto';
import { fromWire, toWire } from '@chameleon/tensor';
import { fromServiceError } from './status';

/** One complete episode, rows in time order. */
export interface Episode {
  readonly ref: EpisodeRef;
  readonly length: number;
  readonly episodeReturn: number;
  readonly observations: Float32Array;
  readonly actions: Float32Array;
  readonly rewards: Float32Array;
  readonly logProbs: Float32Array;
  readonly discounts: Float32Array;
  /** The observation after the last action (empty when the simulator did not send it). */
  readonly finalObservation: Float32Array;
}

export interface RolloutStats {
  /** Streams opened (one per unit of work, more after failures). */
  streams: number;
  /** Streams that failed and were re-assigned. */
  failures: number;
  /** Replicas that were given up on. */
  lostReplicas: number;
  /** Indices of the replicas given up on. */
  lost: number[];
}

const key = (e: EpisodeRef) => `${e.task}/${e.episode}`;

interface Partial {
  rows: number;
  chunks: Array<{ obs: Float32Array; act: Float32Array; rew: Float32Array; logp: Float32Array; disc: Float32Array }>;
}

/** Transport failures that mean "this replica is gone", as opposed to a bad request. */
function isReplicaFailure(e: unknown): boolean {
  const code = (e as ChameleonError).code;
  return code === 'UNAVAILABLE' || code === 'CANCELLED' || code === 'DEADLINE_EXCEEDED' || code === 'INTERNAL';
}

/**
 * Runs `request.episodes` across simulator replicas and returns every episode exactly once.
 * Work is split into one unit per replica; a unit whose stream fails (replica killed,
 * unreachable, timed out) is re-assigned to the remaining replicas with only its incomplete
 * episodes. Because an episode's randomness depends only on (seed, task, episode), a
 * re-run episode is identical to the lost one. Bad requests (INVALID_ARGUMENT, ...) fail fast.
 */
export async function collectRollouts(
  simulators: readonly EnvironmentSimulatorServiceClient[],
  request: StreamRolloutsRequest,
  options: { deadlineMs?: number; maxFailures?: number; metadata?: () => grpc.Metadata; skip?: ReadonlySet<number> } = {},
): Promise<{ episodes: Map<string, Episode>; stats: RolloutStats }> {
  const done = new Map<string, Episode>();
  const stats: RolloutStats = { streams: 0, failures: 0, lostReplicas: 0, lost: [] };
  // Replicas known to have failed recently are skipped, unless that would leave none.
  const skip = options.skip && options.skip.size < simulators.length ? options.skip : new Set<number>();
  const alive = simulators.map((_, r) => !skip.has(r));
  const live0 = alive.filter(Boolean).length;
  const maxFailures = options.maxFailures ?? 3 * simulators.length;
  const units: EpisodeRef[][] = [];
  const per = Math.ceil(request.episodes.length / live0);
  for (let i = 0; i < request.episodes.length; i += per) units.push(request.episodes.slice(i, i + per));

  const runUnit = (replica: number, unit: EpisodeRef[]) =>
    new Promise<void>((resolve, reject) => {
      stats.streams++;
      const partial = new Map<string, Partial>();
      const sim = simulators[replica];
      const call = sim.streamRollouts({ ...request, episodes: unit }, options.metadata?.() ?? new grpc.Metadata(), { deadline: Date.now() + (options.deadlineMs ?? 600_000) });
      call.on('data', (m: StreamRolloutsResponse) => {
        try {
          absorb(m, partial, done, request);
        } catch (e) {
          call.cancel();
          reject(e);
        }
      });
      call.on('error', (e) => reject(fromServiceError(e, `environment-simulator StreamRollouts (replica ${replica})`)));
      call.on('end', resolve);
    });

  // Rounds: each live replica takes one unit; a failed unit's incomplete episodes go back in
  // the queue for the next round, without the replica that failed.
  const queue = [...units];
  while (queue.length) {
    const live = alive.map((a, r) => (a ? r : -1)).filter((r) => r >= 0);
    if (!live.length) throw unavailable('rollouts failed on every simulator replica');
    const round = live.slice(0, queue.length).map((r) => ({ r, unit: queue.shift()! }));
    const results = await Promise.allSettled(round.map(({ r, unit }) => runUnit(r, unit)));
    results.forEach((res, i) => {
      const { r, unit } = round[i];
      const missing = unit.filter((e) => !done.has(key(e)));
      if (res.status === 'rejected' && !isReplicaFailure(res.reason)) throw res.reason;
      if (res.status === 'rejected' || missing.length) {
        stats.failures++;
        alive[r] = false;
        stats.lostReplicas++;
        stats.lost.push(r);
        if (missing.length) queue.push(missing);
        if (stats.failures > maxFailures) throw unavailable(`rollouts failed ${stats.failures} times; giving up`);
      }
    });
  }
  const missing = request.episodes.filter((e) => !done.has(key(e)));
  if (missing.length) throw unavailable(`${missing.length} episode(s) could not be collected`);
  return { episodes: done, stats };
}

function absorb(m: StreamRolloutsResponse, partial: Map<string, Partial>, done: Map<string, Episode>, request: StreamRolloutsRequest): void {
  const c = m.chunk;
  if (!c) return;
  const obs = fromWire(c.observations, 'chunk.observations', ['float32'] as const);
  const act = fromWire(c.actions, 'chunk.actions', ['float32'] as const);
  const rew = fromWire(c.rewards, 'chunk.rewards', ['float32'] as const).data;
  const logp = fromWire(c.logProbs, 'chunk.log_probs', ['float32'] as const).data;
  const disc = fromWire(c.discounts, 'chunk.discounts', ['float32'] as const).data;
  const rows = rew.length;
  const obsSize = rows ? obs.data.length / rows : 0;
  // Older or third-party simulators may omit final observations: episodes then get none.
  const finals = c.finalObservations && c.finalObservations.shape.length ? fromWire(c.finalObservations, 'chunk.final_observations', ['float32'] as const).data : new Float32Array(0);
  let finalIndex = 0;
  const actSize = rows ? act.data.length / rows : 0;
  for (const s of c.segments) {
    const ref = s.episode!;
    const k = key(ref);
    const finalObservation = s.complete && finals.length >= (finalIndex + 1) * obsSize ? finals.slice(finalIndex * obsSize, (finalIndex + 1) * obsSize) : new Float32Array(0);
    if (s.complete) finalIndex++;
    if (done.has(k)) continue; // already complete from an earlier attempt: never duplicate
    const p = partial.get(k) ?? { rows: 0, chunks: [] };
    if (s.startStep !== p.rows) throw new ChameleonError('INTERNAL', `episode ${k}: segment starts at step ${s.startStep}, expected ${p.rows}`);
    const a = s.offset;
    const b = s.offset + s.length;
    p.chunks.push({ obs: obs.data.slice(a * obsSize, b * obsSize), act: act.data.slice(a * actSize, b * actSize), rew: rew.slice(a, b), logp: logp.slice(a, b), disc: disc.slice(a, b) });
    p.rows += s.length;
    partial.set(k, p);
    if (s.complete) {
      const cat = (pick: (x: Partial['chunks'][number]) => Float32Array) => {
        const parts = p.chunks.map(pick);
        const out = new Float32Array(parts.reduce((n, x) => n + x.length, 0));
        let o = 0;
        for (const x of parts) {
          out.set(x, o);
          o += x.length;
        }
        return out;
      };
      done.set(k, { ref, length: p.rows, episodeReturn: s.episodeReturn, observations: cat((x) => x.obs), actions: cat((x) => x.act), rewards: cat((x) => x.rew), logProbs: cat((x) => x.logp), discounts: cat((x) => x.disc), finalObservation });
      partial.delete(k);
    }
  }
  void request;
}

/**
 * Episodes as one padded TrajectoryBatch per task (rows in episode order, padding masked),
 * the form the learner's policy RPCs take.
 */
export function episodesToBatches(episodes: Map<string, Episode>, numTasks: number, episodesPerTask: number, horizon: number, obsSize: number, actSize: number): TrajectoryBatch[] {
  const out: TrajectoryBatch[] = [];
  for (let t = 0; t < numTasks; t++) {
    const E = episodesPerTask;
    const obs = new Float32Array(E * horizon * obsSize);
    const act = new Float32Array(E * horizon * actSize);
    const rew = new Float32Array(E * horizon);
    const logp = new Float32Array(E * horizon);
    const mask = new Float32Array(E * horizon);
    const disc = new Float32Array(E * horizon);
    const finals = new Float32Array(E * obsSize);
    const refs: EpisodeRef[] = [];
    for (let e = 0; e < E; e++) {
      const ep = episodes.get(`${t}/${e}`);
      if (!ep) throw new ChameleonError('INTERNAL', `episode ${t}/${e} is missing`);
      const n = Math.min(ep.length, horizon);
      obs.set(ep.observations.subarray(0, n * obsSize), e * horizon * obsSize);
      act.set(ep.actions.subarray(0, n * actSize), e * horizon * actSize);
      rew.set(ep.rewards.subarray(0, n), e * horizon);
      logp.set(ep.logProbs.subarray(0, n), e * horizon);
      disc.set(ep.discounts.subarray(0, n), e * horizon);
      mask.fill(1, e * horizon, e * horizon + n);
      if (ep.finalObservation.length === obsSize) finals.set(ep.finalObservation, e * obsSize);
      refs.push(ep.ref);
    }
    const t2 = (data: Float32Array, tail: number[]) => toWire({ dtype: 'float32', shape: [E, horizon, ...tail], data });
    out.push({
      episodes: refs,
      observations: t2(obs, [obsSize]),
      actions: t2(act, [actSize]),
      rewards: t2(rew, []),
      logProbs: t2(logp, []),
      mask: t2(mask, []),
      discounts: t2(disc, []),
      finalObservations: toWire({ dtype: 'float32', shape: [E, obsSize], data: finals }),
    });
  }
  return out;
}

/** Mean undiscounted return of the episodes of each task. */
export function meanReturns(episodes: Map<string, Episode>, numTasks: number): number[] {
  const sums = new Float64Array(numTasks);
  const counts = new Float64Array(numTasks);
  for (const e of episodes.values()) {
    sums[e.ref.task] += e.episodeReturn;
    counts[e.ref.task]++;
  }
  return Array.from(sums, (s, t) => s / Math.max(1, counts[t]));
}
