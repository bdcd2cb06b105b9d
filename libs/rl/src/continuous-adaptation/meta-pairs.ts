import { z } from 'zod';
import { invalidArgument } from '@chameleon/core';
import { initialState, optimiserConfig, optimiserStep, type OptimiserState } from '@chameleon/meta';
import { tf, type Tensor } from '@chameleon/nn';
import { advantageConfig, type AdvantageConfig } from '../advantages';
import type { DiagGaussian } from '../gaussian';
import { clipFraction, importanceSurrogate, ppoSurrogate } from '../losses';
import { disposeTasks, outerKl, paramTensors, postDistributions, taskAdvantages, uploadTasks, type TaskData } from '../maml-rl';
import type { Policy } from '../policy';
import { flattenTensors, unflattenHost } from '../trpo';
import type { TrajectoryBatch } from '../trajectory';
import type { StepSizePolicy } from './step-size-policy';

export const metaPairsConfig = z
  .object({
    /** PPO clip epsilon of the meta-objective. Default 0.2. */
    clipEpsilon: z.number().gt(0).lt(1).default(0.2),
    /** Optimiser steps on the clipped objective per call (the pairs' data is reused). Default 5. */
    epochs: z.number().int().min(1).max(1000).default(5),
    /**
     * Optimiser steps per epoch, each on its own share of the pairs (pair j goes to minibatch
     * j mod minibatches; more minibatches than pairs is an error). Default 1: the whole batch.
     */
    minibatches: z.number().int().min(1).max(1000).default(1),
    /** Outer optimiser for theta and alpha together. Default Adam, learning rate 1e-3. */
    optimiser: optimiserConfig.default(optimiserConfig.parse({})),
    /**
     * Early stop of the epochs (as PPO's target_kl): after each epoch but the last, the mean KL of
     * the adapted policies on T_{i+1}'s data, from the incoming (theta, alpha) to the current one,
     * is measured, and the remaining epochs are skipped once it exceeds 1.5 x targetKl (or is not
     * finite). With fresh Adam moments and a small action std, phi = theta + alpha (.) grad can
     * move far more than theta. Default: no limit.
     */
    targetKl: z.number().positive().optional(),
    /** Step sizes are kept at or above this after each update (alpha must stay a step forward). Default 1e-4. */
    minStepSize: z.number().min(0).default(1e-4),
    /** Returns, baseline and advantages (gamma 0.99, lambda 1). */
    advantages: advantageConfig.default(advantageConfig.parse({})),
  })
  .strict();
export type MetaPairsConfig = z.infer<typeof metaPairsConfig>;

/**
 * One inner step for every task on its own data D_i, importance-corrected so that steps after
 * the first stay valid on data gathered with theta:
 * phi_i <- phi_i + alpha (.) grad_phi mean(pi_phi / pi_behaviour * A). At phi = behaviour this is
 * the policy gradient. Differentiable in phi and alpha (second order through the gradient).
 */
export function importanceStep(policy: Policy, phi: readonly (readonly Tensor[])[], data: readonly TaskData[], alpha: readonly Tensor[]): Tensor[][] {
  const P = alpha.length;
  const start = phi.map((p) => p.slice(0, P).map((t) => tf.add(t, 0)));
  const grads = tf.grads((...flat: Tensor[]) => tf.addN(data.map((d, i) => importanceSurrogate(policy.logProb(flat.slice(i * P, (i + 1) * P), d.obs, d.actions), d.logProbs, d.advantages))))(start.flat());
  return start.map((p, i) => p.map((t, k) => tf.add(t, tf.mul(alpha[k], grads[i * P + k]))));
}

/**
 * Algorithm 1's adaptation: phi_i^0 = theta, phi_i^m = phi_i^{m-1} + alpha_m (.) grad L_{T_i}(phi_i^{m-1})
 * for m = 1..M on task i's trajectories. Returns the adapted policy parameters (P tensors per task).
 */
export function adaptWithStepSizes(policy: Policy, theta: readonly Tensor[], alpha: readonly (readonly Tensor[])[], data: readonly TaskData[]): Tensor[][] {
  let phi: Tensor[][] = data.map(() => [...theta]);
  for (const a of alpha) phi = importanceStep(policy, phi, data, a);
  return phi;
}

const clipped = (policy: Policy, phi: readonly (readonly Tensor[])[], post: readonly TaskData[], eps: number) =>
  tf.div(tf.addN(post.map((d, i) => ppoSurrogate(policy.logProb(phi[i], d.obs, d.actions), d.logProbs, d.advantages, undefined, eps))), post.length);

export interface MetaPairsDiagnostics {
  /**
   * Clipped surrogate on T_{i+1} at the incoming (theta, alpha); with minibatches, the
   * pair-weighted mean of each minibatch's value at its first visit (after the steps before it).
   */
  readonly surrogateBefore: number;
  /** At the returned (theta, alpha). */
  readonly surrogateAfter: number;
  /** Mean KL of the adapted policies on T_{i+1}, before vs after. */
  readonly kl: number;
  readonly clipFraction: number;
  /** Mean step size of each inner step, after the update. */
  readonly meanStepSize: number[];
  /** Global L2 norm of the alpha part of the last epoch's gradient. */
  readonly alphaGradNorm: number;
  /** Epochs run: config.epochs, or fewer when targetKl stopped them. */
  readonly epochs: number;
}

/**
 * The meta-update of Algorithm 1 (Al-Shedivat et al. 2018): for pairs (T_i, T_{i+1}), with
 * `pre[i]` trajectories of T_i gathered with theta and `post[i]` trajectories of T_{i+1}
 * gathered with the adapted policy, `epochs` optimiser steps on
 * mean_i clippedSurrogate(phi_i(theta, alpha), T_{i+1}), differentiating through the M inner
 * steps into theta AND the step sizes alpha. `params` is the StepSizePolicy's full list
 * (theta then alpha). Pure: optimiser state in, optimiser state out.
 *
 * @example
 *   let state: OptimiserState | undefined;
 *   ({ params, state } = metaPairsStep(policy, params, preTi, postTi1, metaPairsConfig.parse({}), state));
 */
export function metaPairsStep(
  policy: StepSizePolicy,
  params: readonly Float32Array[],
  pre: readonly TrajectoryBatch[],
  post: readonly TrajectoryBatch[],
  config: MetaPairsConfig,
  state?: OptimiserState,
): { params: Float32Array[]; state: OptimiserState; diagnostics: MetaPairsDiagnostics } {
  if (pre.length === 0 || pre.length !== post.length) throw invalidArgument('post', `needs one batch of T_{i+1} per batch of T_i (${pre.length}), got ${post.length}`);
  const names = policy.spec.map((p) => p.name);
  const sizes = policy.spec.map((p) => p.shape.reduce((a, b) => a * b, 1));
  const eps = config.clipEpsilon;
  const P = policy.policyTensors;
  let Dpre: TaskData[] = [];
  let Dpost: TaskData[] = [];
  let old: DiagGaussian[] = [];
  if (config.minibatches > pre.length) throw invalidArgument('minibatches', `must be at most the number of pairs (${pre.length}), got ${config.minibatches}`);
  const adapt = (all: readonly Tensor[], pairs: readonly TaskData[] = Dpre) => {
    const { policy: th, alpha } = policy.split(all);
    return adaptWithStepSizes(policy.base, th, alpha, pairs);
  };
  const share = (m: number) => <T>(xs: readonly T[]) => xs.filter((_, j) => j % config.minibatches === m);
  try {
    Dpre = uploadTasks(pre, taskAdvantages(pre, config.advantages), 'pre');
    Dpost = uploadTasks(post, taskAdvantages(post, config.advantages), 'post');
    const start = paramTensors(policy, params);
    old = tf.tidy(() => postDistributions(policy.base, adapt(start), Dpost).map((d) => ({ mean: d.mean, logStd: d.logStd })));
    tf.dispose(start);
    let current: Float32Array[] = params.map((p) => p.slice());
    let opt = state ?? initialState(config.optimiser, names, sizes);
    let before = Number.NaN;
    let alphaGradNorm = 0;
    let epochsRun = 0;
    for (let e = 0; e < config.epochs; e++) {
      epochsRun = e + 1;
      for (let m = 0; m < config.minibatches; m++) {
        const pick = share(m);
        const [pairsPre, pairsPost] = [pick(Dpre), pick(Dpost)];
        const th = paramTensors(policy, current);
        const flat = read(
          tf.tidy(() => {
            const { value, grads } = tf.valueAndGrads((...p: Tensor[]) => tf.neg(clipped(policy.base, adapt(p, pairsPre), pairsPost, eps)) as tf.Scalar)(th);
            return tf.concat([tf.reshape(value, [1]), flattenTensors(grads)]);
          }),
        );
        tf.dispose(th);
        // First epoch: each minibatch's value when it is first visited, weighted by its pairs
        // (with one minibatch, the whole batch's surrogate at the incoming parameters).
        if (e === 0) before = (Number.isNaN(before) ? 0 : before) - (flat[0] * pairsPre.length) / Dpre.length;
        const grads = unflattenHost(flat.subarray(1), sizes);
        alphaGradNorm = Math.sqrt(grads.slice(P).reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
        ({ params: current, state: opt } = optimiserStep(config.optimiser, names, current, grads, opt));
        for (let k = P; k < current.length; k++) for (let j = 0; j < current[k].length; j++) current[k][j] = Math.max(config.minStepSize, current[k][j]);
      }
      if (config.targetKl !== undefined && e < config.epochs - 1) {
        const now = paramTensors(policy, current);
        const kl = read(tf.tidy(() => tf.reshape(outerKl(policy.base, adapt(now), Dpost, old), [1])))[0];
        tf.dispose(now);
        if (!(kl <= 1.5 * config.targetKl)) break;
      }
    }
    const th = paramTensors(policy, current);
    const m = read(
      tf.tidy(() => {
        const phi = adapt(th);
        const clip = tf.addN(Dpost.map((d, i) => clipFraction(policy.base.logProb(phi[i], d.obs, d.actions), d.logProbs, undefined, eps)));
        return tf.stack([clipped(policy.base, phi, Dpost, eps), outerKl(policy.base, phi, Dpost, old), tf.div(clip, Dpost.length)]);
      }),
    );
    tf.dispose(th);
    const { alpha } = policy.split(current);
    const meanStepSize = alpha.map((a) => a.reduce((s, v) => s + v.reduce((x, y) => x + y, 0), 0) / a.reduce((s, v) => s + v.length, 0));
    return { params: current, state: opt, diagnostics: { surrogateBefore: before, surrogateAfter: m[0], kl: m[1], clipFraction: m[2], meanStepSize, alphaGradNorm, epochs: epochsRun } };
  } finally {
    disposeTasks(Dpre);
    disposeTasks(Dpost);
    tf.dispose(old.flatMap((d) => [d.mean, d.logStd]));
  }
}

/**
 * The meta-objective of {@link metaPairsStep} at `params` and its gradient with respect to the
 * whole list (theta then alpha): for checks and diagnostics.
 */
export function metaPairsObjective(policy: StepSizePolicy, params: readonly Float32Array[], pre: readonly TrajectoryBatch[], post: readonly TrajectoryBatch[], config: MetaPairsConfig): { value: number; gradient: Float32Array[] } {
  const sizes = policy.spec.map((p) => p.shape.reduce((a, b) => a * b, 1));
  let Dpre: TaskData[] = [];
  let Dpost: TaskData[] = [];
  const th = paramTensors(policy, params);
  try {
    Dpre = uploadTasks(pre, taskAdvantages(pre, config.advantages), 'pre');
    Dpost = uploadTasks(post, taskAdvantages(post, config.advantages), 'post');
    const flat = read(
      tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((...p: Tensor[]) => {
          const { policy: theta, alpha } = policy.split(p);
          return clipped(policy.base, adaptWithStepSizes(policy.base, theta, alpha, Dpre), Dpost, config.clipEpsilon) as tf.Scalar;
        })(th);
        return tf.concat([tf.reshape(value, [1]), flattenTensors(grads)]);
      }),
    );
    return { value: flat[0], gradient: unflattenHost(flat.subarray(1), sizes) };
  } finally {
    tf.dispose(th);
    disposeTasks(Dpre);
    disposeTasks(Dpost);
  }
}

/**
 * Adapts a StepSizePolicy's theta to each batch with its learned step sizes (M importance-
 * corrected steps); returns full parameter lists (adapted theta, unchanged alpha), one per batch:
 * what actors sample T_{i+1} with, and what execution-time adaptation (eq. 9) computes.
 */
export function adaptWithLearnedStepSizes(policy: StepSizePolicy, params: readonly Float32Array[], batches: readonly TrajectoryBatch[], advantages: AdvantageConfig): Float32Array[][] {
  const all = paramTensors(policy, params);
  let data: TaskData[] = [];
  try {
    data = uploadTasks(batches, taskAdvantages(batches, advantages));
    const { policy: th, alpha } = policy.split(all);
    const flat = tf.tidy(() => tf.concat(adaptWithStepSizes(policy.base, th, alpha, data).flat().map((t) => tf.reshape(t, [-1]))));
    const host = read(flat);
    const P = policy.policyTensors;
    const total = params.slice(0, P).reduce((s, p) => s + p.length, 0);
    return batches.map((_, i) => {
      let off = i * total;
      return [...params.slice(0, P).map((p) => host.slice(off, (off += p.length))), ...params.slice(P).map((p) => p.slice())];
    });
  } finally {
    tf.dispose(all);
    disposeTasks(data);
  }
}

function read(t: Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}
