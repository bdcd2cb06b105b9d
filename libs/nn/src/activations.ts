import { tf } from './tf';

type Grad = { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor };

/** Wraps a unary op with a gradient built from differentiable ops on the saved input. */
function twiceDifferentiable(value: (x: tf.Tensor) => tf.Tensor, derivative: (x: tf.Tensor) => tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  const f = (x: tf.Tensor, save: tf.GradSaveFunc): Grad => {
    // Save the input, not the output: recomputing from the input keeps the gradient
    // differentiable (saving the output breaks the second derivative).
    save([x]);
    return { value: value(x), gradFunc: (dy, saved) => tf.mul(dy, derivative(saved[0])) };
  };
  return tf.customGrad(f as never) as unknown as (x: tf.Tensor) => tf.Tensor;
}

/**
 * tanh whose gradient is itself differentiable. tfjs's built-in gradient of tanh cannot be
 * differentiated again (second-order MAML needs that).
 */
export const tanh2 = twiceDifferentiable(
  (x) => tf.tanh(x),
  (x) => tf.sub(1, tf.square(tf.tanh(x))),
);

/** exp with a twice-differentiable gradient (see tanh2). */
export const exp2 = twiceDifferentiable(
  (x) => tf.exp(x),
  (x) => tf.exp(x),
);

/**
 * Max over the last axis (kept) with zero gradient, computed off the tape: a shift for
 * numerical stability only, which no derivative of log-softmax depends on. (tf.max's own
 * gradient would put an Equal op on the tape, which cannot be differentiated again.)
 */
const constantMax = tf.customGrad(((x: tf.Tensor) => {
  const shape = x.shape;
  return { value: tf.max(x, -1, true), gradFunc: () => tf.zeros(shape) };
}) as never) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * Log-softmax over the last axis that can be differentiated twice. tfjs's tf.logSoftmax
 * saves its output for the backward pass, so a gradient of its gradient misses terms
 * (second-order MAML on cross-entropy came out wrong). The max shift does not change the
 * value's derivatives, so it is held constant.
 */
export function logSoftmax2(logits: tf.Tensor): tf.Tensor {
  const shifted = tf.sub(logits, constantMax(logits));
  return tf.sub(shifted, tf.log(tf.sum(exp2(shifted), -1, true)));
}

export type ActivationName = 'relu' | 'tanh';

export function activation(name: ActivationName): (x: tf.Tensor) => tf.Tensor {
  return name === 'relu' ? (x) => tf.relu(x) : tanh2;
}
