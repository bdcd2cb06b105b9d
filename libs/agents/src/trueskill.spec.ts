import { cdf, conservative, initial, inverseCdf, rate } from './trueskill';

describe('TrueSkill', () => {
  it('has an accurate normal CDF and inverse', () => {
    expect(cdf(0)).toBeCloseTo(0.5, 7);
    expect(cdf(1.96)).toBeCloseTo(0.975, 4);
    expect(inverseCdf(0.975)).toBeCloseTo(1.96, 3);
  });

  it('matches the reference update for a win between two new players', () => {
    // Reference values of the TrueSkill paper's defaults (as the trueskill Python package gives):
    // 1v1, winner 29.396 +- 7.171, loser 20.604 +- 7.171.
    const [a, b] = rate(initial(), initial(), 1);
    expect(a.mu).toBeCloseTo(29.396, 2);
    expect(b.mu).toBeCloseTo(20.604, 2);
    expect(a.sigma).toBeCloseTo(7.171, 2);
    expect(b.sigma).toBeCloseTo(7.171, 2);
  });

  it('leaves equal players equal after a draw and shrinks their uncertainty', () => {
    const [a, b] = rate(initial(), initial(), 0);
    expect(a.mu).toBeCloseTo(25, 6);
    expect(b.mu).toBeCloseTo(25, 6);
    expect(a.sigma).toBeLessThan(25 / 3);
    expect(a.sigma).toBeCloseTo(6.458, 2);
  });

  it('is symmetric: a loss for a is a win for b', () => {
    const x = { mu: 27, sigma: 5 };
    const y = { mu: 22, sigma: 6 };
    const [a1, b1] = rate(x, y, -1);
    const [b2, a2] = rate(y, x, 1);
    expect(a1).toEqual(a2);
    expect(b1).toEqual(b2);
  });

  it('ranks the stronger of two players first after many games', () => {
    let strong = initial();
    let weak = initial();
    for (let i = 0; i < 50; i++) [strong, weak] = rate(strong, weak, i % 5 === 0 ? -1 : 1);
    expect(conservative(strong)).toBeGreaterThan(conservative(weak));
    expect(strong.sigma).toBeLessThan(3);
  });
});
