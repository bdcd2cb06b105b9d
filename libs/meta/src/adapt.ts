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
  const { model, params, supportX, supportY, inner, loss } = input;
  return recordedAdapt(model, tileTasks(params, dim(supportX, 0)), { ...input, supportX }, inner.steps, (phi) => innerStep(model, phi, supportX, supportY, loss, inner.learningRate, stepSizes));
}

/**
 * `steps` applications of `step` from the per-task parameters `start`, recording the support
 * losses before and after every step and, where given, the query losses (and accuracies for
 * classification) and predictions at every point: the bookkeeping every inner rule shares.
 */
export function recordedAdapt(
  model: FunctionalModel,
  start: Tensor[],
  data: { readonly supportX: Tensor; readonly supportY: Tensor; readonly loss: LossName; readonly queryX?: Tensor; readonly queryY?: Tensor; readonly predictX?: Tensor },
  steps: number,
  step: (phi: Tensor[], s: number) => { phi: Tensor[]; losses: Tensor },
): AdaptOutput {
  const { supportX, supportY, loss, queryX, queryY, predictX } = data;
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
  let phi = start;
  for (let s = 0; s < steps; s++) {
    record(phi);
    const next = step(phi, s);
    support.push(next.losses);
    phi = next.phi;
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
