import { Rng } from '@chameleon/core';
import { discountedReturns, gae, normaliseMasked, type StepSignals } from './returns';

/**
 * The reference: one episode at a time, one step at a time, written from the definitions
 * (CleanRL's GAE test compares two implementations like this).
 */
function gaeLoop(s: StepSignals, values: Float32Array, gamma: number, lambda: number, bootstrap?: Float32Array) {
  const H = s.horizon;
  const adv = new Float32Array(s.episodes * H);
  const ret = new Float32Array(s.episodes * H);
  for (let e = 0; e < s.episodes; e++) {
    let len = 0;
    while (len < H && s.mask[e * H + len]) len++;
    for (let t = 0; t < len; t++) {
      // Forward sums: A_t = sum_k (gamma lambda)^k delta_{t+k}; G_t = sum_k gamma^k r_{t+k}.
      let a = 0;
      let g = 0;
      let w = 1;
      let wg = 1;
      for (let k = t; k < len; k++) {
        const i = e * H + k;
        const last = k === len - 1;
        const vNext = last ? (bootstrap ? bootstrap[e] : 0) : values[i + 1];
        a += w * (s.rewards[i] + gamma * s.discounts[i] * vNext - values[i]);
        g += wg * s.rewards[i];
        if (last) g += wg * gamma * s.discounts[i] * (bootstrap ? bootstrap[e] : 0);
        w *= gamma * lambda * s.discounts[i];
        wg *= gamma * s.discounts[i];
      }
      adv[e * H + t] = a;
      ret[e * H + t] = g;
    }
  }
  return { adv, ret };
}

function randomSignals(seed: number, E: number, H: number): StepSignals & { values: Float32Array; bootstrap: Float32Array } {
  const rng = new Rng(seed);
  const n = E * H;
  const [rewards, discounts, mask, values] = [0, 0, 0, 0].map(() => new Float32Array(n));
  for (let e = 0; e < E; e++) {
    const len = rng.int(H + 1);
    const terminal = rng.next() < 0.5;
    for (let t = 0; t < len; t++) {
      const i = e * H + t;
      mask[i] = 1;
      discounts[i] = terminal && t === len - 1 ? 0 : 1;
      rewards[i] = rng.normal();
      values[i] = rng.normal();
    }
  }
  return { episodes: E, horizon: H, rewards, discounts, mask, values, bootstrap: new Float32Array(E).map(() => rng.normal()) };
}

describe('returns and GAE', () => {
  it.each([
    [0.99, 1.0],
    [0.99, 0.95],
    [0.9, 0],
    [1, 0.5],
  ])('the vectorised sweep agrees with a per-episode loop (gamma %f, lambda %f), with and without bootstrap', (gamma, lambda) => {
    for (let seed = 0; seed < 20; seed++) {
      const s = randomSignals(seed, 7, 12);
      for (const boot of [undefined, s.bootstrap]) {
        const ref = gaeLoop(s, s.values, gamma, lambda, boot);
        const adv = gae(s, s.values, gamma, lambda, boot);
        const ret = discountedReturns(s, gamma, boot);
        adv.forEach((a, i) => expect(a).toBeCloseTo(ref.adv[i], 4));
        ret.forEach((g, i) => expect(g).toBeCloseTo(ref.ret[i], 4));
      }
    }
  });

  it('computes a hand-worked terminal episode and a time-limited one', () => {
    // Episode 0: rewards 1, 2, 3, terminal. Episode 1: rewards 1, 1, time limit, one padding step.
    const s: StepSignals = {
      episodes: 2,
      horizon: 4,
      rewards: Float32Array.from([1, 2, 3, 0, 1, 1, 0, 0]),
      discounts: Float32Array.from([1, 1, 0, 0, 1, 1, 0, 0]),
      mask: Float32Array.from([1, 1, 1, 0, 1, 1, 0, 0]),
    };
    const g = 0.5;
    expect(Array.from(discountedReturns(s, g))).toEqual([1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3, 0, 1.5, 1, 0, 0]);
    // Bootstrapping from V(final) = 10: the terminal episode ignores it, the time-limited one uses it.
    expect(Array.from(discountedReturns(s, g, Float32Array.from([10, 10])))).toEqual([2.75, 3.5, 3, 0, 1 + 0.5 * (1 + 0.5 * 10), 1 + 5, 0, 0]);
    // GAE with V = 1 everywhere, lambda = 0.5: delta = [1 + 0.5 - 1, 2 + 0.5 - 1, 3 - 1] = [0.5, 1.5, 2].
    const V = Float32Array.from([1, 1, 1, 0, 1, 1, 0, 0]);
    const a = gae(s, V, g, 0.5);
    expect(a[2]).toBeCloseTo(2, 6);
    expect(a[1]).toBeCloseTo(1.5 + 0.25 * 2, 6);
    expect(a[0]).toBeCloseTo(0.5 + 0.25 * (1.5 + 0.25 * 2), 6);
    expect(a[3]).toBe(0);
  });

  it('lambda = 1 gives Monte Carlo returns minus the baseline; lambda = 0 the TD error', () => {
    const s = randomSignals(42, 5, 9);
    const G = discountedReturns(s, 0.99);
    gae(s, s.values, 0.99, 1).forEach((a, i) => expect(a).toBeCloseTo(s.mask[i] ? G[i] - s.values[i] : 0, 4));
    const td = gae(s, s.values, 0.9, 0);
    for (let i = 0; i < td.length; i++) {
      if (!s.mask[i]) continue;
      const lastOfEpisode = i % 9 === 8 || !s.mask[i + 1];
      const vNext = lastOfEpisode ? 0 : s.values[i + 1];
      expect(td[i]).toBeCloseTo(s.rewards[i] + 0.9 * s.discounts[i] * vNext - s.values[i], 5);
    }
  });

  it('normalises over real steps only and leaves padding at 0', () => {
    const s = { episodes: 2, horizon: 3, mask: Float32Array.from([1, 1, 0, 1, 0, 0]) };
    const x = normaliseMasked(Float32Array.from([1, 2, 99, 3, 99, 99]), s);
    expect(x[0]).toBeCloseTo(-Math.sqrt(1.5), 5);
    expect(x[1]).toBeCloseTo(0, 6);
    expect(x[3]).toBeCloseTo(Math.sqrt(1.5), 5);
    expect([x[2], x[4], x[5]]).toEqual([0, 0, 0]);
  });

  it('rejects bad sizes and discount factors naming the field', () => {
    const s = randomSignals(1, 2, 3);
    expect(() => gae(s, new Float32Array(2), 0.9, 1)).toThrow(/^values:/);
    expect(() => discountedReturns(s, 1.5)).toThrow(/^gamma:/);
    expect(() => gae(s, s.values, 0.9, -1)).toThrow(/^lambda:/);
  });
});
