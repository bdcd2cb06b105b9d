import { logSoftmax2 } from './activations';
import { tf, type Tensor } from './tf';

export type LossName = 'mse' | 'cross-entropy';

/** Mean squared error per task: pred and target [T, N, ...] -> [T]. */
export function msePerTask(pred: Tensor, target: Tensor): Tensor {
  const axes = pred.shape.map((_, i) => i).slice(1);
  return tf.mean(tf.squaredDifference(pred, target), axes);
}

/**
 * Softmax cross-entropy per task: logits [T, N, C], int32 labels [T, N] -> [T].
 * Twice differentiable (logSoftmax2), as second-order MAML needs.
 */
export function crossEntropyPerTask(logits: Tensor, labels: Tensor): Tensor {
  const classes = logits.shape[logits.shape.length - 1];
  const onehot = tf.oneHot(tf.cast(labels, 'int32'), classes);
  const logp = logSoftmax2(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), -1), 1));
}

/** Classification accuracy per task: logits [T, N, C], labels [T, N] -> [T]. */
export function accuracyPerTask(logits: Tensor, labels: Tensor): Tensor {
  const hit = tf.cast(tf.equal(tf.argMax(logits, -1), tf.cast(labels, 'int32')), 'float32');
  return tf.mean(hit, 1);
}

export function lossPerTask(name: LossName, pred: Tensor, target: Tensor): Tensor {
  return name === 'mse' ? msePerTask(pred, target) : crossEntropyPerTask(pred, target);
}
