import { invalidArgument } from '@chameleon/core';
import type { TrajectoryBatch } from './trajectory';

/**
 * Rewards, discounts and mask of a batch, [E, H] each; what returns and GAE read. A
 * TrajectoryBatch satisfies it.
 */
export interface StepSignals {
  readonly episodes: number;
  readonly horizon: number;
  readonly rewards: Float32Array;
  readonly discounts: Float32Array;
  readonly mask: Float32Array;
}

function check(s: StepSignals, extra: Record<string, ArrayLike<number> | undefined>, gamma: number, lambda = 1): void {
  const n = s.episodes * s.horizon;
  for (const [name, a] of Object.entries({ rewards: s.rewards, discounts: s.discounts, mask: s.mask })) {
    if (a.length !== n) throw invalidArgument(name, `must hold ${s.episodes} x ${s.horizon} values, got ${a.length}`);
  }
  if (extra.values && extra.values.length !== n) throw invalidArgument('values', `must hold ${n} values, got ${extra.values.length}`);
  if (extra.bootstrap && extra.bootstrap.length !== s.episodes) throw invalidArgument('bootstrap', `must hold one value per episode (${s.episodes}), got ${extra.bootstrap.length}`);
  if (!(gamma >= 0 && gamma <= 1)) throw invalidArgument('gamma', `must lie in [0, 1], got ${gamma}`);
  if (!(lambda >= 0 && lambda <= 1)) throw invalidArgument('lambda', `must lie in [0, 1], got ${lambda}`);
}

/**
 * Discounted returns G_t = r_t + gamma d_t G_{t+1} over [E, H], 0 on padding.
 *
 * At the end of an episode, G_{t+1} is `bootstrap[e]` (the value of the final
 * observation) when given, else 0. The discount d_t of the last step decides whether it
 * counts: a terminal transition (d = 0) never bootstraps; a time limit (d = 1) does when a
 * value is supplied. MAML-RL's rllab code bootstraps nothing (plain Monte Carlo returns):
 * omit `bootstrap` for that.
 *
 * The sweep runs backwards in time with all episodes side by side (one pass over t).
 */
export function discountedReturns(s: StepSignals, gamma: number, bootstrap?: Float32Array): Float32Array {
  check(s, { bootstrap }, gamma);
  const { episodes: E, horizon: H, rewards: r, discounts: d, mask: m } = s;
  const out = new Float32Array(E * H);
  const next = new Float64Array(E);
  if (bootstrap) for (let e = 0; e < E; e++) next[e] = bootstrap[e];
  for (let t = H - 1; t >= 0; t--) {
    for (let e = 0; e < E; e++) {
      const i = e * H + t;
      if (m[i] === 0) continue;
      // A real step followed by padding ends its episode: `next` still holds the bootstrap.
      next[e] = r[i] + gamma * d[i] * next[e];
      out[i] = next[e];
    }
  }
  return out;
}

/**
 * Generalised advantage estimation (Schulman et al. 2016) over [E, H]:
 *   delta_t = r_t + gamma d_t V_{t+1} - V_t,   A_t = delta_t + gamma lambda d_t A_{t+1},
 * with V_{t+1} at the end of an episode taken from `bootstrap` as in
 * {@link discountedReturns}. lambda = 1 gives A_t = G_t - V_t (MAML-RL's setting); lambda = 0
 * the one-step TD error. Returns advantages (0 on padding).
 *
 * @example
 *   const values = predictLinearBaseline(fitLinearBaseline(batch, G), batch);
 *   const adv = gae(batch, values, 0.99, 1.0);
 */
export function gae(s: StepSignals, values: Float32Array, gamma: number, lambda: number, bootstrap?: Float32Array): Float32Array {
  check(s, { values, bootstrap }, gamma, lambda);
  const { episodes: E, horizon: H, rewards: r, discounts: d, mask: m } = s;
  const out = new Float32Array(E * H);
  const nextValue = new Float64Array(E);
  const nextAdv = new Float64Array(E);
  if (bootstrap) for (let e = 0; e < E; e++) nextValue[e] = bootstrap[e];
  for (let t = H - 1; t >= 0; t--) {
    for (let e = 0; e < E; e++) {
      const i = e * H + t;
      if (m[i] === 0) continue;
      const delta = r[i] + gamma * d[i] * nextValue[e] - values[i];
      nextAdv[e] = delta + gamma * lambda * d[i] * nextAdv[e];
      nextValue[e] = values[i];
      out[i] = nextAdv[e];
    }
  }
  return out;
}

/** Normalises x over the real steps of the given episodes (default all): (x - mean) / (std + 1e-8), in place. */
export function normaliseMasked(x: Float32Array, s: Pick<TrajectoryBatch, 'episodes' | 'horizon' | 'mask'>, episodes?: readonly number[]): Float32Array {
  const rows = episodes ?? Array.from({ length: s.episodes }, (_, i) => i);
  let n = 0;
  let sum = 0;
  for (const e of rows) {
    for (let t = 0; t < s.horizon; t++) {
      if (!s.mask[e * s.horizon + t]) continue;
      n++;
      sum += x[e * s.horizon + t];
    }
  }
  if (n === 0) return x;
  const mean = sum / n;
  let ss = 0;
  for (const e of rows) for (let t = 0; t < s.horizon; t++) if (s.mask[e * s.horizon + t]) ss += (x[e * s.horizon + t] - mean) ** 2;
  const std = Math.sqrt(ss / n);
  for (const e of rows) for (let t = 0; t < s.horizon; t++) {
    const i = e * s.horizon + t;
    x[i] = s.mask[i] ? (x[i] - mean) / (std + 1e-8) : 0;
  }
  return x;
}
