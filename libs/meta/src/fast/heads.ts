import { tf, type LossName, type Tensor } from '@chameleon/nn';

/**
 * A loss written so that its gradient with respect to the network output is an explicit,
 * differentiable expression: the fused MAML path builds the inner gradient from it instead
 * of taking a gradient inside a gradient. Outputs and targets are task-major rows
 * [T * N, ...].
 */
export interface Head {
  /** scale * d(task loss)/d(output) for every row: each row belongs to one task of `n` rows. */
  outputGrad(out: Tensor, target: Tensor, n: number, scale: number): Tensor;
  /** Per-task mean loss, [T]. */
  taskLosses(out: Tensor, target: Tensor, tasks: number): Tensor;
  /** Mean loss over all rows: the mean over tasks of equally sized tasks' losses. */
  meanLoss(out: Tensor, target: Tensor): tf.Scalar;
  /** Mean accuracy (classification only). */
  accuracy?(out: Tensor, target: Tensor): Tensor;
}

/** Mean squared error over rows and output units; the gradient is 2 (out - y) / (n * units). */
const mse: Head = {
  outputGrad: (out, y, n, scale) => tf.mul(tf.sub(out, y), (2 * scale) / (n * out.shape[1]!)),
  taskLosses: (out, y, tasks) => tf.mean(tf.reshape(tf.squaredDifference(out, y), [tasks, -1]), 1),
  meanLoss: (out, y) => tf.mean(tf.squaredDifference(out, y)) as tf.Scalar,
};

/**
 * Softmax cross-entropy with one-hot targets (the caller one-hots the labels once); the
 * gradient is (softmax(out) - onehot) / n.
 */
const crossEntropy: Head = {
  outputGrad: (out, onehot, n, scale) => tf.mul(tf.sub(tf.softmax(out), onehot), scale / n),
  taskLosses: (out, onehot, tasks) => tf.neg(tf.mean(tf.reshape(tf.sum(tf.mul(onehot, tf.logSoftmax(out)), -1), [tasks, -1]), 1)),
  meanLoss: (out, onehot) => tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(out)), -1))) as tf.Scalar,
  accuracy: (out, onehot) => tf.mean(tf.cast(tf.equal(tf.argMax(out, -1), tf.argMax(onehot, -1)), 'float32')),
};

export const head = (loss: LossName): Head => (loss === 'mse' ? mse : crossEntropy);

/** Targets as rows the head expects: float targets flattened, labels one-hot. */
export function targetRows(loss: LossName, y: Tensor, rows: number, units: number): Tensor {
  return loss === 'mse' ? tf.reshape(y, [rows, units]) : tf.oneHot(tf.reshape(tf.cast(y, 'int32'), [rows]), units);
}
