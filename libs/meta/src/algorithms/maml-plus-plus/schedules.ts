/**
 * The training-progress schedules of MAML++ (Antoniou, Edwards & Storkey 2019) as pure
 * functions of the meta-iteration, so a stateless learner computes them from the
 * iteration the meta-optimiser sends.
 */

/**
 * Multi-step loss (MSL) weights v_1..v_S of the query losses after inner steps 1..S at
 * meta-iteration `iteration`, annealed over `annealIterations`: the authors' schedule with
 * a continuous epoch. At progress p = iteration / annealIterations every non-final weight
 * is max(1/S - p/S, 0.03/S) and the final one min(1/S + p(S-1)/S, 1 - (S-1) 0.03/S); from
 * p >= 1 on the last step alone counts. The weights sum to one at every iteration (the
 * non-final weights reach their floor exactly when the final one reaches its ceiling).
 */
export function multiStepLossWeights(steps: number, iteration: number, annealIterations: number): number[] {
  if (steps <= 0) return [];
  const last = Array.from({ length: steps }, (_, s) => (s === steps - 1 ? 1 : 0));
  if (steps === 1 || annealIterations <= 0 || iteration >= annealIterations) return last;
  const p = Math.max(0, iteration) / annealIterations;
  const floor = 0.03 / steps;
  const nonFinal = Math.max(1 / steps - p / steps, floor);
  const final = Math.min(1 / steps + (p * (steps - 1)) / steps, 1 - (steps - 1) * floor);
  return Array.from({ length: steps }, (_, s) => (s === steps - 1 ? final : nonFinal));
}

/** Derivative-order annealing: first-order gradients for the first `firstOrderUntil` meta-iterations, then second order. */
export const firstOrderAt = (iteration: number, firstOrderUntil: number): boolean => iteration < firstOrderUntil;
