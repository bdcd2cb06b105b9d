import { tf, type Tensor } from '@chameleon/nn';
import { expN, maskedMean } from './smooth';

/** Masked mean over the last axis, or the plain mean when every step is real. */
const reduce = (x: Tensor, mask?: Tensor) => (mask ? maskedMean(x, mask) : tf.mean(x, -1));

/**
 * Policy-gradient objectives over [..., N] tensors of per-step quantities, reduced by a
 * masked mean over the last axis: [N] -> scalar, [T, N] -> [T] (one value per task).
 * Advantages are constants here (computed on the host from returns and a baseline).
 * "Loss" functions are minimised; "surrogate" objectives are maximised. Without a mask every
 * step counts.
 */

/**
 * REINFORCE (Williams 1992): -mean(log pi(a|s) * A). Its gradient is the policy gradient
 * (negated); MAML-RL's inner step descends it.
 *
 * @example
 *   const loss = reinforceLoss(policy.logProb(theta, obs, actions), adv, mask);
 */
export function reinforceLoss(logProbs: Tensor, advantages: Tensor, mask?: Tensor): Tensor {
  return tf.neg(reduce(tf.mul(logProbs, advantages), mask));
}

/** Probability ratios pi / pi_old = exp(log pi - log pi_old), differentiable to any order. */
export function likelihoodRatio(logProbs: Tensor, oldLogProbs: Tensor): Tensor {
  return expN(tf.sub(logProbs, oldLogProbs));
}

/**
 * Importance-weighted surrogate (TRPO, Schulman et al. 2015): mean(pi / pi_old * A). At
 * pi = pi_old its gradient equals the REINFORCE policy gradient.
 */
export function importanceSurrogate(logProbs: Tensor, oldLogProbs: Tensor, advantages: Tensor, mask?: Tensor): Tensor {
  return reduce(tf.mul(likelihoodRatio(logProbs, oldLogProbs), advantages), mask);
}

/**
 * PPO's clipped surrogate (Schulman et al. 2017): mean(min(r A, clip(r, 1 - eps, 1 + eps) A)).
 * Equal to the importance surrogate while every ratio lies in [1 - eps, 1 + eps]; a sample
 * whose ratio has left that interval in the direction that improves it contributes no
 * gradient. (The unclipped term comes first: tfjs's minimum sends the gradient of a tie to
 * its first argument, so in-range samples take the unclipped gradient.)
 */
export function ppoSurrogate(logProbs: Tensor, oldLogProbs: Tensor, advantages: Tensor, mask: Tensor | undefined, clipEpsilon: number): Tensor {
  const r = likelihoodRatio(logProbs, oldLogProbs);
  const unclipped = tf.mul(r, advantages);
  const clipped = tf.mul(tf.clipByValue(r, 1 - clipEpsilon, 1 + clipEpsilon), advantages);
  return reduce(tf.minimum(unclipped, clipped), mask);
}

/** Fraction of real steps whose ratio lies outside [1 - eps, 1 + eps] (a PPO diagnostic). */
export function clipFraction(logProbs: Tensor, oldLogProbs: Tensor, mask: Tensor | undefined, clipEpsilon: number): Tensor {
  const dev = tf.abs(tf.sub(likelihoodRatio(logProbs, oldLogProbs), 1));
  return reduce(tf.cast(tf.greater(dev, clipEpsilon), 'float32'), mask);
}
