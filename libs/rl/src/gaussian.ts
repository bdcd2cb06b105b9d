import { tf, type Tensor } from '@chameleon/nn';
import { expN } from './smooth';

/**
 * A diagonal Gaussian over actions: `mean` [..., N, act] and `logStd` broadcastable to it
 * (the Gaussian MLP policy's is state-independent: [act], or [T, 1, act] per task).
 */
export interface DiagGaussian {
  readonly mean: Tensor;
  readonly logStd: Tensor;
}

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * log N(a; mean, std^2) summed over the action axis: [..., N, act] -> [..., N].
 * Written as ((a - mean) * exp(-logStd))^2 so that every op is differentiable to any order.
 */
export function gaussianLogProb(d: DiagGaussian, actions: Tensor): Tensor {
  const act = d.mean.shape[d.mean.shape.length - 1];
  const z = tf.mul(tf.sub(actions, d.mean), expN(tf.neg(d.logStd)));
  // Summing the state-independent logStd [.., 1, act] gives [.., 1], which broadcasts over N.
  const logStdSum = tf.sum(d.logStd, -1);
  return tf.sub(tf.mul(-0.5, tf.sum(tf.square(z), -1)), tf.add(logStdSum, 0.5 * act * LOG_2PI));
}

/**
 * KL(p || q) of diagonal Gaussians summed over the action axis: [..., N, act] -> [..., N].
 * log(sq/sp) + (sp^2 + (mp - mq)^2) / (2 sq^2) - 1/2 per dimension.
 */
export function gaussianKl(p: DiagGaussian, q: DiagGaussian): Tensor {
  const varRatio = expN(tf.mul(2, tf.sub(p.logStd, q.logStd)));
  const diff = tf.mul(tf.sub(p.mean, q.mean), expN(tf.neg(q.logStd)));
  const perDim = tf.add(tf.sub(q.logStd, p.logStd), tf.mul(0.5, tf.sub(tf.add(varRatio, tf.square(diff)), 1)));
  return tf.sum(perDim, -1);
}

/** Entropy summed over the action axis: sum(logStd) + act/2 (1 + log 2 pi). [..., N, act] -> [..., N]. */
export function gaussianEntropy(d: DiagGaussian): Tensor {
  const act = d.mean.shape[d.mean.shape.length - 1];
  return tf.add(tf.sum(tf.add(tf.zerosLike(d.mean), d.logStd), -1), 0.5 * act * (1 + LOG_2PI));
}
