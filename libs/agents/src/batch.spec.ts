import { Rng } from '@chameleon/core';
import { NormalMatrixCache, advantageConfig, computeAdvantages, emptyBatch } from '@chameleon/rl';
import type { EpisodeRecord } from './agent';
import { rowsWithAdvantages } from './batch';

function episode(rng: Rng, length: number, O: number, A: number): EpisodeRecord {
  const discounts = new Float32Array(length).fill(1);
  discounts[length - 1] = 0;
  return {
    length,
    observations: Float32Array.from({ length: length * O }, () => rng.normal()),
    actions: Float32Array.from({ length: length * A }, () => rng.normal()),
    logProbs: Float32Array.from({ length }, () => rng.normal()),
    rewards: Float32Array.from({ length }, () => rng.normal()),
    discounts,
  };
}

describe('rowsWithAdvantages', () => {
  const O = 5;
  const A = 2;
  const rng = new Rng(4);
  const eps = [40, 25, 40, 33, 40, 12].map((len) => episode(rng, len, O, A));

  it("equals computeAdvantages' advantages on the real rows, bit for bit", () => {
    const list = eps.slice(0, 4);
    const rows = rowsWithAdvantages(list, O, A, { gamma: 0.97 });
    const H = 40;
    const b = emptyBatch(list.length, H, O, A);
    list.forEach((e, i) => {
      b.observations.set(e.observations, i * H * O);
      b.rewards.set(e.rewards, i * H);
      b.discounts.set(e.discounts, i * H);
      b.mask.fill(1, i * H, i * H + e.length);
      b.finalObservations.set(e.observations.subarray((e.length - 1) * O), i * O);
    });
    const { advantages } = computeAdvantages(b, advantageConfig.parse({ gamma: 0.97 }));
    const expected = list.flatMap((e, i) => Array.from(advantages.subarray(i * H, i * H + e.length)));
    expect(Array.from(rows.advantages)).toEqual(expected);
  });

  it('gives the same advantages with a cache of normal matrices, round after round (to float32 rounding)', () => {
    const cache = new NormalMatrixCache();
    for (let round = 0; round < 2; round++) {
      const list = eps.slice(2 * round, 2 * round + 4);
      const plain = rowsWithAdvantages(list, O, A, { gamma: 0.99 });
      const cached = rowsWithAdvantages(list, O, A, { gamma: 0.99 }, cache);
      cached.advantages.forEach((v, i) => expect(Math.abs(v - plain.advantages[i])).toBeLessThan(1e-5));
    }
    expect(cache.size).toBe(6);
  });
});
