/**
 * TrueSkill for two-player games with draws (Herbrich, Minka & Graepel 2006): each player's
 * skill is a Gaussian N(mu, sigma^2); a game's outcome moves the means toward what it
 * suggests and shrinks the variances. Conservative rating = mu - 3 sigma.
 */
export interface Rating {
  readonly mu: number;
  readonly sigma: number;
}

export interface TrueSkillConfig {
  /** Prior mean. Default 25. */
  mu: number;
  /** Prior standard deviation. Default 25/3. */
  sigma: number;
  /** Performance noise. Default sigma/2. */
  beta: number;
  /** Skill drift added before each game. Default sigma/100. */
  tau: number;
  /** Probability of a draw between equals. Default 0.1. */
  drawProbability: number;
}

export const defaultTrueSkill = (): TrueSkillConfig => ({ mu: 25, sigma: 25 / 3, beta: 25 / 6, tau: 25 / 300, drawProbability: 0.1 });

const SQRT2 = Math.SQRT2;
const pdf = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

/** erf with |error| < 1.2e-7 (Numerical Recipes' erfc approximation). */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

export const cdf = (x: number) => 0.5 * (1 + erf(x / SQRT2));

/** Inverse normal CDF by bisection on cdf (exact enough for a draw margin). */
export function inverseCdf(p: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function vWin(t: number, e: number): number {
  const d = cdf(t - e);
  return d < 1e-12 ? e - t : pdf(t - e) / d;
}

function wWin(t: number, e: number): number {
  const v = vWin(t, e);
  return Math.min(1, Math.max(0, v * (v + t - e)));
}

function vDraw(t: number, e: number): number {
  const d = cdf(e - t) - cdf(-e - t);
  return d < 1e-12 ? (t < 0 ? -t - e : -t + e) : (pdf(-e - t) - pdf(e - t)) / d;
}

function wDraw(t: number, e: number): number {
  const d = cdf(e - t) - cdf(-e - t);
  const v = vDraw(t, e);
  if (d < 1e-12) return 1;
  return Math.min(1, Math.max(0, v * v + ((e - t) * pdf(e - t) + (e + t) * pdf(e + t)) / d));
}

/**
 * Both players' ratings after one game; `outcome` is from player a's view: +1 a won, -1 a
 * lost, 0 draw.
 *
 * @example
 *   const [a, b] = rate(initial(), initial(), 1); // a.mu > 25 > b.mu
 */
export function rate(a: Rating, b: Rating, outcome: number, cfg: TrueSkillConfig = defaultTrueSkill()): [Rating, Rating] {
  const sa2 = a.sigma ** 2 + cfg.tau ** 2;
  const sb2 = b.sigma ** 2 + cfg.tau ** 2;
  const c = Math.sqrt(2 * cfg.beta ** 2 + sa2 + sb2);
  const margin = inverseCdf((cfg.drawProbability + 1) / 2) * SQRT2 * cfg.beta;
  const e = margin / c;
  const [win, lose, sw2, sl2, flip] = outcome < 0 ? [b, a, sb2, sa2, true] : [a, b, sa2, sb2, false];
  const t = (win.mu - lose.mu) / c;
  const [v, w] = outcome === 0 ? [vDraw(t, e), wDraw(t, e)] : [vWin(t, e), wWin(t, e)];
  const winner: Rating = { mu: win.mu + (sw2 / c) * v, sigma: Math.sqrt(sw2 * (1 - (sw2 / c ** 2) * w)) };
  const loser: Rating = { mu: lose.mu - (sl2 / c) * v, sigma: Math.sqrt(sl2 * (1 - (sl2 / c ** 2) * w)) };
  return flip ? [loser, winner] : [winner, loser];
}

export const initial = (cfg: TrueSkillConfig = defaultTrueSkill()): Rating => ({ mu: cfg.mu, sigma: cfg.sigma });

/** The conservative skill estimate used for leaderboards. */
export const conservative = (r: Rating) => r.mu - 3 * r.sigma;
