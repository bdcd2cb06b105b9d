import type { Tensor } from './tf';

/** Name and shape of one parameter tensor. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * A functional model: parameters are an explicit list in `spec` order, never state. This
 * is what makes inner loops, meta-gradients and per-task weights pure functions.
 *
 * @example
 *   const model = new Mlp({ inputSize: 1, hidden: [40, 40], outputSize: 1, activation: 'relu' });
 *   const theta = model.init(seed).map((v, i) => tf.tensor(v, model.spec[i].shape));
 *   const y = model.forward(theta, tf.tensor2d([[0.5]]));
 */
export interface FunctionalModel {
  readonly architecture: string;
  readonly spec: readonly ParamSpec[];
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** Fresh parameters, deterministic in the seed. */
  init(seed: number): Float32Array[];
  /** Shared parameters: x [N, ...input] -> [N, ...output]. */
  forward(params: readonly Tensor[], x: Tensor): Tensor;
  /** Per-task parameters (leading task axis T on every tensor): x [T, N, ...input] -> [T, N, ...output]. */
  forwardPerTask(params: readonly Tensor[], x: Tensor): Tensor;
}

export const paramCount = (spec: readonly ParamSpec[]): number =>
  spec.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);

/** Size of axis `axis` of a tensor (negative counts from the end). */
export function dim(t: Tensor, axis: number): number {
  const shape = t.shape as number[];
  const d = shape[axis < 0 ? shape.length + axis : axis];
  if (d === undefined) throw new Error(`tensor of rank ${shape.length} has no axis ${axis}`);
  return d;
}
