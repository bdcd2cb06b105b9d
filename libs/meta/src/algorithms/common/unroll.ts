import { accuracyPerTask, dim, lossPerTask, tf, type FunctionalModel, type LossName, type Tensor } from '@chameleon/nn';
import { recordedAdapt, taskLosses } from '../../adapt';
import type { AdaptInput, AdaptOutput, MetaGradientInput, MetaGradientOutput } from '../../types';

/**
 * The identity with a zero gradient. First-order variants wrap the inner gradients in it:
 * the adapted parameters then depend on theta (and on learned step sizes) only through the
 * explicit update, never through the gradient itself.
 */
export const stopGradient = tf.customGrad(((x: Tensor) => ({ value: tf.clone(x), gradFunc: (dy: Tensor) => tf.zerosLike(dy) })) as never) as unknown as (
  x: Tensor,
) => Tensor;

/** How an inner loop moves per-task parameters (each with a leading task axis [T, ...]). */
export interface InnerRule {
  /** Whether model parameter i is adapted; the others stay where they started (ANIL's body). Default: all. */
  readonly adapts?: (i: number) => boolean;
  /** The decrement of parameter i at inner step s (0-based), given its per-task gradient and current value: phi_i <- phi_i - step. */
  step(i: number, s: number, grad: Tensor, current: Tensor): Tensor;
  /** Hold the inner gradients constant in the outer gradient (first order). Default false. */
  readonly firstOrder?: boolean;
}

/**
 * One inner step by `rule`, differentiable when called on a gradient tape. Returns the new
 * parameters and the per-task support losses [T] at the old ones.
 */
export function ruleStep(
  model: FunctionalModel,
  phi: readonly Tensor[],
  x: Tensor,
  y: Tensor,
  loss: LossName,
  s: number,
  rule: InnerRule,
): { phi: Tensor[]; losses: Tensor } {
  const adapted = phi.map((_, i) => i).filter((i) => rule.adapts?.(i) ?? true);
  // The per-task loss vector's gradient is that of its sum: each task's own gradient.
  const { value, grads } = tf.valueAndGrads((...sub: Tensor[]) => {
    const full = [...phi];
    adapted.forEach((i, j) => (full[i] = sub[j]));
    return taskLosses(model, full, x, y, loss);
  })(adapted.map((i) => phi[i]));
  const next = [...phi];
  adapted.forEach((i, j) => (next[i] = tf.sub(phi[i], rule.step(i, s, rule.firstOrder ? stopGradient(grads[j]) : grads[j], phi[i]))));
  return { phi: next, losses: value };
}

/** What an unrolled algorithm supplies for one meta-gradient, built from the meta-parameters on the tape. */
export interface UnrolledProblem {
  /** The model the inner loop adapts (the MLP itself, or ANIL's head). */
  readonly model: FunctionalModel;
  /** Per-task starting parameters [T, ...] of `model`. */
  readonly start: Tensor[];
  readonly rule: InnerRule;
  /** Support and query inputs of `model` (ANIL: body features). Default: the batch's. */
  readonly supportX?: Tensor;
  readonly queryX?: Tensor;
  /** A term added to the objective (MR-MAML's beta * KL). */
  readonly penalty?: Tensor;
}

/**
 * The meta-gradient of a differentiable inner loop, for every algorithm whose adaptation is
 * gradient steps of some rule (Meta-SGD, MAML++, ANIL, MR-MAML): the objective is
 * sum_s w_s * mean_i L_query_i(phi_i^(s)) + penalty, with w the query-loss weight of each
 * step 1..steps (default: the last step only, as MAML). `metaLoss` is the mean query loss
 * after the last step (comparable across algorithms); `grads` are of the whole objective.
 */
export function unrolledMetaGradient(
  { params, batch, inner, loss }: MetaGradientInput,
  build: (params: Tensor[]) => UnrolledProblem,
  stepWeights?: readonly number[],
): MetaGradientOutput {
  const steps = inner.steps;
  const weights = stepWeights ?? Array.from({ length: steps }, (_, s) => (s === steps - 1 ? 1 : 0));
  const support: Tensor[] = [];
  let accuracy: Tensor | undefined;
  let finalLoss: Tensor | undefined;
  const objective = (...all: Tensor[]) => {
    const p = build(all);
    const xs = p.supportX ?? batch.supportX;
    const xq = p.queryX ?? batch.queryX;
    const queryLoss = (phi: readonly Tensor[]) => {
      const out = p.model.forwardPerTask(phi, xq);
      return { out, value: tf.mean(lossPerTask(loss, out, batch.queryY)) };
    };
    let phi = p.start;
    // Every meta-parameter takes part (with weight 0 if unused), so its gradient exists
    // even when no step uses it (e.g. learned step sizes with zero inner steps).
    let total: Tensor = tf.mul(0, tf.addN(all.map((t) => tf.sum(t))));
    for (let s = 0; s < steps; s++) {
      const step = ruleStep(p.model, phi, xs, batch.supportY, loss, s, p.rule);
      support.push(tf.keep(step.losses));
      phi = step.phi;
      if (weights[s] > 0 && s < steps - 1) total = tf.add(total, tf.mul(weights[s], queryLoss(phi).value));
    }
    support.push(tf.keep(taskLosses(p.model, phi, xs, batch.supportY, loss)));
    const last = queryLoss(phi);
    if (loss === 'cross-entropy') accuracy = tf.keep(tf.mean(accuracyPerTask(last.out, batch.queryY)));
    finalLoss = tf.keep(last.value);
    total = tf.add(total, steps > 0 ? tf.mul(weights[steps - 1], last.value) : last.value);
    if (p.penalty) total = tf.add(total, p.penalty);
    return total as tf.Scalar;
  };
  const { value, grads } = tf.valueAndGrads(objective)([...params]);
  value.dispose();
  const supportLosses = tf.stack(support, 1);
  tf.dispose(support);
  return { grads, metaLoss: finalLoss!, supportLosses, metaAccuracy: accuracy };
}

/** Per-task dot product of two parameter lists with a leading task axis: [T]. */
export function taskDot(a: readonly Tensor[], b: readonly Tensor[]): Tensor {
  return tf.addN(a.map((x, i) => tf.sum(tf.reshape(tf.mul(x, b[i]), [dim(x, 0), -1]), 1)));
}

/** A per-task scalar [T] shaped to broadcast against a tensor [T, ...]. */
export function perTask(s: Tensor, like: Tensor): Tensor {
  return tf.reshape(s, [dim(like, 0), ...like.shape.slice(1).map(() => 1)]);
}

/** What an adaptation by a rule runs on: the model adapted and its inputs (default: the request's). */
export interface AdaptProblem {
  readonly model: FunctionalModel;
  /** Per-task starting parameters [T, ...]. */
  readonly start: Tensor[];
  readonly rule: InnerRule;
  readonly supportX?: Tensor;
  readonly queryX?: Tensor;
  readonly predictX?: Tensor;
}

/**
 * Adaptation by an inner rule, off any tape, recording support (and query) losses and
 * predictions before and after every step, like sgdAdapt. Returns the parameters of
 * `problem.model`; the caller maps them to the model's layout.
 */
export function ruleAdapt(input: AdaptInput, problem: AdaptProblem): AdaptOutput {
  const { supportY, inner, loss } = input;
  const m = problem.model;
  const xs = problem.supportX ?? input.supportX;
  const data = { supportX: xs, supportY, loss, queryX: problem.queryX ?? input.queryX, queryY: input.queryY, predictX: problem.predictX ?? input.predictX };
  return recordedAdapt(m, problem.start, data, inner.steps, (phi, s) => ruleStep(m, phi, xs, supportY, loss, s, problem.rule));
}
