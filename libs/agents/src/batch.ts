import { advantageConfig, computeAdvantages, emptyBatch, type AdvantageConfig, type NormalMatrixCache } from '@chameleon/rl';
import type { EpisodeRecord } from './agent';

/** Real (unpadded) rows of recorded episodes, with advantages: what the update rules need. */
export interface Rows {
  readonly n: number;
  readonly observations: Float32Array;
  readonly actions: Float32Array;
  readonly logProbs: Float32Array;
  readonly advantages: Float32Array;
}

/**
 * Episodes as rows with advantages from the linear feature baseline fitted on these very
 * episodes (as MAML-RL and Al-Shedivat et al. process samples). With `normalMatrices`, the
 * baseline fit reuses the normal-equation matrices of episodes it has seen before (an agent's
 * update uses each episode in several consecutive rounds).
 */
export function rowsWithAdvantages(episodes: readonly EpisodeRecord[], obsSize: number, actSize: number, config: Partial<AdvantageConfig> = {}, normalMatrices?: NormalMatrixCache): Rows {
  const kept = episodes.filter((e) => e.length > 0);
  const H = Math.max(1, ...kept.map((e) => e.length));
  const b = emptyBatch(kept.length, H, obsSize, actSize);
  kept.forEach((e, i) => {
    b.observations.set(e.observations, i * H * obsSize);
    b.actions.set(e.actions, i * H * actSize);
    b.rewards.set(e.rewards, i * H);
    b.logProbs.set(e.logProbs, i * H);
    b.discounts.set(e.discounts, i * H);
    b.mask.fill(1, i * H, i * H + e.length);
    b.finalObservations.set(e.observations.subarray((e.length - 1) * obsSize, e.length * obsSize), i * obsSize);
  });
  const adv = kept.length ? computeAdvantages(b, advantageConfig.parse(config), normalMatrices).advantages : new Float32Array(0);
  const n = kept.reduce((s, e) => s + e.length, 0);
  const rows: Rows = { n, observations: new Float32Array(n * obsSize), actions: new Float32Array(n * actSize), logProbs: new Float32Array(n), advantages: new Float32Array(n) };
  let r = 0;
  kept.forEach((e, i) => {
    rows.observations.set(e.observations, r * obsSize);
    rows.actions.set(e.actions, r * actSize);
    rows.logProbs.set(e.logProbs, r);
    rows.advantages.set(adv.subarray(i * H, i * H + e.length), r);
    r += e.length;
  });
  return rows;
}
