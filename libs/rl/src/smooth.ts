import { tf, type Tensor } from '@chameleon/nn';

type Grad = { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor };

/**
 * A unary op whose gradient is built from the op itself (and other differentiable ops), so
 * it can be differentiated any number of times. The recursion is lazy: `derivative` only runs
 * when a backward pass reaches the op.
 *
 * Why not `tanh2`/`exp2` from @chameleon/nn: their gradients use tfjs's built-in tanh/exp,
 * so they can be differentiated twice but not three times. The exact TRPO Hessian-vector
 * product of MAML-RL's KL differentiates through the inner policy-gradient step and the
 * KL's own gradient: third derivatives of the activations. Values and first two derivatives
 * equal tanh2/exp2's.
 */
function smooth(value: (x: Tensor) => Tensor, derivative: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  const f = (x: Tensor, save: tf.GradSaveFunc): Grad => {
    // Save the input, not the output (recomputing from the input keeps higher orders exact).
    save([x]);
    return { value: value(x), gradFunc: (dy, saved) => tf.mul(dy, derivative(saved[0])) };
  };
  return tf.customGrad(f as never) as unknown as (x: Tensor) => Tensor;
}

/**
 * tanh, differentiable to any order: d tanh = 1 - tanh^2, with this tanh. The value is
 * computed as 2 sigmoid(2x) - 1: on wasm tf.tanh costs about 7 ms per 1000 x 100 elements,
 * more than a 100 x 100 matMul on them, while sigmoid's form costs about 1 ms (measured; the
 * two differ by under 2e-7).
 */
export const tanhN: (x: Tensor) => Tensor = smooth(
  (x) => tf.sub(tf.mul(2, tf.sigmoid(tf.mul(2, x))), 1),
  (x) => tf.sub(1, tf.square(tanhN(x))),
);

/** exp, differentiable to any order: d exp = exp, with this exp. */
export const expN: (x: Tensor) => Tensor = smooth(
  (x) => tf.exp(x),
  (x) => expN(x),
);

type DenseGrad = { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor[] };

/**
 * x [N, in] . w [in, out], differentiable to any order, whose gradients are again plain
 * products: dx = dy . transpose(w), dw = transpose(x) . dy. tfjs's own MatMul gradient uses
 * the transposed forms of MatMul, which on wasm run about 7-9x slower than an explicit
 * transpose followed by a plain product (measured at 1000 x 100 x 100).
 */
export const dense: (x: Tensor, w: Tensor) => Tensor = (() => {
  const f = (x: Tensor, w: Tensor, save: tf.GradSaveFunc): DenseGrad => {
    save([x, w]);
    return { value: tf.matMul(x, w), gradFunc: (dy, [xs, ws]) => [dense(dy, tf.transpose(ws)), dense(tf.transpose(xs), dy)] };
  };
  const g = tf.customGrad(f as never) as unknown as (x: Tensor, w: Tensor) => Tensor;
  return (x: Tensor, w: Tensor) => g(x, w);
})();

/** Hidden activations a policy may use; both differentiable to any order. */
export type PolicyActivation = 'tanh' | 'relu';

export const policyActivation = (name: PolicyActivation): ((x: Tensor) => Tensor) => (name === 'relu' ? (x) => tf.relu(x) : tanhN);

/**
 * Masked mean over the last axis: sum(x * mask) / max(sum(mask), 1). [..., N] -> [...].
 * Padded steps (mask 0) contribute nothing; an all-padding row gives 0, not NaN.
 */
export function maskedMean(x: Tensor, mask: Tensor): Tensor {
  return tf.div(tf.sum(tf.mul(x, mask), -1), tf.maximum(tf.sum(mask, -1), 1));
}
