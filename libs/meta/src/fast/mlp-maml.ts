import { dense, dim, matMulT, Mlp, relu, reluMask, taskMatMul, tf, type Tensor } from '@chameleon/nn';
import type { MetaGradientInput, MetaGradientOutput } from '../types';
import { head, targetRows, type Head } from './heads';

/** A hidden activation and its backward pass as differentiable ops. */
interface Activation {
  forward(z: Tensor): Tensor;
  /** dy * f'(z), given z and a = f(z). */
  backward(dy: Tensor, z: Tensor, a: Tensor): Tensor;
}

const ACTIVATIONS: Record<'relu' | 'tanh', Activation> = {
  relu: { forward: relu, backward: (dy, z) => reluMask(dy, z) },
  // f' = 1 - a^2 with a = tanh(z), in differentiable ops; the one outer gradient then goes
  // through tf.tanh once, so tfjs's own (first-order) tanh gradient is all it needs.
  tanh: { forward: (z) => tf.tanh(z), backward: (dy, _z, a) => tf.mul(dy, tf.sub(1, tf.square(a))) },
};

/**
 * True when the fused path computes the same meta-gradient as the generic one: an MLP with
 * ReLU or tanh, exactly one inner SGD step, MSE or cross-entropy.
 */
export function fusedMamlApplies({ model, params, inner, loss }: MetaGradientInput): boolean {
  return (
    model instanceof Mlp &&
    model.config.activation in ACTIVATIONS &&
    inner.steps === 1 &&
    (loss === 'mse' || loss === 'cross-entropy') &&
    params.length === model.spec.length
  );
}

/** Support activations A_l (A_0 = inputs) and inner-gradient terms D_l = alpha * dL/dZ_l, all rows task-major. */
interface InnerStep {
  readonly activations: Tensor[];
  readonly deltas: Tensor[];
  readonly output: Tensor;
}

/**
 * The forward pass through every task's adapted weights, without forming them. One SGD step
 * on task t gives W_l' = W_l - A_{l-1,t}^T D_{l,t} and b_l' = b_l - 1^T D_{l,t}, so for rows h
 * of task t:  h W_l' + b_l' = (h W_l + b_l) - (h A_{l-1,t}^T + 1) D_{l,t}.
 * The first term is one shared matMul over all tasks; the second is a per-task [N, K] Gram
 * matrix times D: no per-task weight tensors, no tiling.
 */
function adaptedForward(theta: readonly Tensor[], act: Activation, step: InnerStep, x: Tensor, tasks: number): Tensor {
  const layers = theta.length / 2;
  let h = x;
  for (let l = 0; l < layers; l++) {
    const gram = taskMatMul(h, step.activations[l], tasks, { transposeB: true, plus: 1 });
    const z = taskMatMul(gram, step.deltas[l], tasks, { base: dense(h, theta[2 * l], theta[2 * l + 1]), scale: -1 });
    h = l < layers - 1 ? act.forward(z) : z;
  }
  return h;
}

/** Support pass at theta and the explicit inner gradient: differentiable, or constants when called off the tape. */
function innerStep(theta: readonly Tensor[], act: Activation, xs: Tensor, ys: Tensor, lossHead: Head, K: number, alpha: number): InnerStep {
  const layers = theta.length / 2;
  const activations = [xs];
  const z: Tensor[] = [];
  for (let l = 0; l < layers; l++) {
    z.push(dense(activations[l], theta[2 * l], theta[2 * l + 1]));
    if (l < layers - 1) activations.push(act.forward(z[l]));
  }
  const deltas: Tensor[] = new Array(layers);
  deltas[layers - 1] = lossHead.outputGrad(z[layers - 1], ys, K, alpha);
  for (let l = layers - 2; l >= 0; l--) {
    deltas[l] = act.backward(matMulT(deltas[l + 1], theta[2 * l + 2], false, true), z[l], activations[l + 1]);
  }
  return { activations, deltas, output: z[layers - 1] };
}

/**
 * MAML with one inner step, fused for MLPs. The inner gradient is written out
 * (backpropagation by hand through the support pass, as differentiable ops) and the query
 * pass goes through the adapted weights in low-rank form (see adaptedForward); then ONE
 * tf.valueAndGrads differentiates the whole objective. tfjs autodiff still produces the
 * meta-gradient, Hessian-vector terms included: no gradient tape is nested.
 *
 * First order: the inner step is taken off the tape, so the adapted weights are constants
 * plus theta and the same tf.valueAndGrads yields the mean of the query gradients at phi_i.
 *
 * On wasm the products run on kernels with their own gradients (@chameleon/nn kernels):
 * XNNPACK for the shared products, SIMD for the per-task ones.
 */
export function fusedMamlMetaGradient({ model, params, batch, inner, loss }: MetaGradientInput, firstOrder = false): MetaGradientOutput {
  const mlp = model as Mlp;
  const act = ACTIVATIONS[mlp.config.activation as 'relu' | 'tanh'];
  const lossHead = head(loss);
  const [T, K, Q] = [dim(batch.supportX, 0), dim(batch.supportX, 1), dim(batch.queryX, 1)];
  const units = mlp.config.outputSize;
  const xs = tf.reshape(batch.supportX, [T * K, mlp.config.inputSize]);
  const xq = tf.reshape(batch.queryX, [T * Q, mlp.config.inputSize]);
  const ys = targetRows(loss, batch.supportY, T * K, units);
  const yq = targetRows(loss, batch.queryY, T * Q, units);
  const take = (theta: readonly Tensor[]) => innerStep(theta, act, xs, ys, lossHead, K, inner.learningRate);
  // Tensors made inside the objective are freed when it returns unless kept; these are
  // reused below for the support-loss trace and accuracy (outside the gradient tape).
  let step = firstOrder ? take(params) : undefined;
  let queryOut: Tensor | undefined;
  const objective = (...theta: Tensor[]): tf.Scalar => {
    if (!firstOrder) {
      step = take(theta);
      [...step.activations.slice(1), ...step.deltas, step.output].forEach((t) => tf.keep(t));
    }
    queryOut = tf.keep(adaptedForward(theta, act, step!, xq, T));
    return lossHead.meanLoss(queryOut, yq);
  };
  const { value, grads } = tf.valueAndGrads(objective)([...params]);
  const s = step!;
  const before = lossHead.taskLosses(s.output, ys, T);
  const after = lossHead.taskLosses(adaptedForward(params, act, s, xs, T), ys, T);
  const metaAccuracy = lossHead.accuracy?.(queryOut!, yq);
  if (!firstOrder) tf.dispose([...s.activations.slice(1), ...s.deltas, s.output]);
  queryOut!.dispose();
  return { grads, metaLoss: value, supportLosses: tf.stack([before, after], 1), metaAccuracy };
}
