import type { AdvantageConfig } from '../advantages';
import { adaptPolicy } from '../maml-rl';
import type { Policy } from '../policy';
import type { TrajectoryBatch } from '../trajectory';
import { adaptWithLearnedStepSizes } from './meta-pairs';
import { isStepSizePolicy } from './step-size-policy';

/**
 * The inner adaptation a policy calls for, one adapted parameter list per batch. A
 * "gaussian-mlp-step-sizes" policy adapts with the step sizes alpha and the M steps it carries
 * ({@link adaptWithLearnedStepSizes}: Algorithm 1's inner loop, eq. 9 at execution, what the
 * meta-adapter agent applies), so `learningRate` and `steps` are ignored for it; any other
 * policy takes max(1, `steps`) policy-gradient steps of the scalar `learningRate` (MAML-RL).
 *
 * @example
 *   const phi = adaptWithPolicyRule(policy, params, preBatches, { learningRate: 0.1, steps: 1 }, advantages);
 */
export function adaptWithPolicyRule(
  policy: Policy,
  params: readonly Float32Array[],
  batches: readonly TrajectoryBatch[],
  inner: { readonly learningRate: number; readonly steps: number },
  advantages: AdvantageConfig,
): Float32Array[][] {
  if (isStepSizePolicy(policy)) return adaptWithLearnedStepSizes(policy, params, batches, advantages);
  return adaptPolicy(policy, params, batches, inner.learningRate, Math.max(1, inner.steps), advantages);
}
