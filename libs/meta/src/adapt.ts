import { accuracyPerTask, dim, lossPerTask, tf, type FunctionalModel, type LossName, type Tensor } from '@chameleon/nn';
import type { AdaptInput, AdaptOutput } from './types';

/** Repeats shared parameters along a new leading task axis: [...] -> [T, ...]. */
export function tileTasks(params: readonly Tensor[], tasks: number): Tensor[] {
  return params.map((p) => tf.tile(tf.expandDims(p, 0), [tasks, ...p.shape.map(() => 1)]));
}

/** Per-task loss of per-task parameters: [T]. */
export function taskLosses(model: FunctionalModel, phi: readonly Tensor[], x: Tensor, y: Tensor, loss: LossName): Tensor {
  return lossPerTask(loss, model.forwardPerTask(phi, x), y);
}

/**
 * One gradient step per task, batched over the task axis: phi_i <- phi_i - alpha * grad L_i(phi_i).
 * Differentiable: called inside an outer gradient it yields second-order MAML.
 * `stepSizes`, when given, are per-parameter learned step sizes (Meta-SGD), replacing alpha.
 * Returns the new parameters and the per-task losses at the old ones.
 */
export function innerStep(
  model: FunctionalModel,
  phi: readonly Tensor[],
  x: Tensor,
  y: Tensor,
  loss: LossName,
  learningRate: number,
  stepSizes?: readonly Tensor[],
): { phi: Tensor[]; losses: Tensor } {
  // The value is the per-task loss vector; its gradient is that of the sum, which for
  // independent tasks is each task's own gradient.
  const { value, grads } = tf.valueAndGrads((...p: Tensor[]) => taskLosses(model, p, x, y, loss))([...phi]);
  const next = phi.map((p, i) => tf.sub(p, stepSizes ? tf.mul(stepSizes[i], grads[i]) : tf.mul(learningRate, grads[i])));
  return { phi: next, losses: value };
}

/**
 * Plain gradient-descent adaptation of shared parameters to every task of a batch,
 * recording support (and query) losses before and after each step.
 */
export function sgdAdapt(input: AdaptInput, stepSizes?: readonly Tensor[]): AdaptOutput {
  const { model, params, supportX, supportY, inner, loss, queryX, queryY, predictX } = input;
  const T = dim(supportX, 0);
  let phi = tileTasks(params, T);
  const support: Tensor[] = [];
  const query: Tensor[] = [];
  const accuracy: Tensor[] = [];
  const predictions: Tensor[] = [];
  const record = (p: readonly Tensor[]) => {
    if (queryX && queryY) {
      const out = model.forwardPerTask(p, queryX);
      query.push(lossPerTask(loss, out, queryY));
      if (loss === 'cross-entropy') accuracy.push(accuracyPerTask(out, queryY));
    }
    if (predictX) predictions.push(model.forwardPerTask(p, predictX));
  };
  for (let s = 0; s < inner.steps; s++) {
    record(phi);
    const step = innerStep(model, phi, supportX, supportY, loss, inner.learningRate, stepSizes);
    support.push(step.losses);
    phi = step.phi;
  }
  record(phi);
  support.push(taskLosses(model, phi, supportX, supportY, loss));
  return {
    phi,
    supportLosses: tf.stack(support, 1),
    queryLosses: query.length ? tf.stack(query, 1) : undefined,
    queryAccuracies: accuracy.length ? tf.stack(accuracy, 1) : undefined,
    predictions: predictions.length ? tf.stack(predictions, 0) : undefined,
  };
}
