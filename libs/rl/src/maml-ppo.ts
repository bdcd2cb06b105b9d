import { z } from 'zod';
import { invalidArgument } from '@chameleon/core';
import { initialState, optimiserConfig, optimiserStep, type OptimiserState } from '@chameleon/meta';
import { tf, type Tensor } from '@chameleon/nn';
import { advantageConfig } from './advantages';
import type { DiagGaussian } from './gaussian';
import { clipFraction, ppoSurrogate } from './losses';
import { adaptTasks, disposeTasks, innerStep, outerKl, paramTensors, postDistributions, taskAdvantages, uploadTasks, type TaskData } from './maml-rl';
import type { Policy } from './policy';
import { flattenTensors, unflattenHost } from './trpo';
import type { TrajectoryBatch } from './trajectory';

export const mamlPpoConfig = z
  .object({
    /** Inner (adaptation) step size alpha. Default 0.1. */
    innerLr: z.number().min(0).default(0.1),
    /** Treat the inner gradient as a constant at each epoch's theta (first-order MAML). Default false. */
    firstOrder: z.boolean().default(false),
    /** PPO clip epsilon. Default 0.2. */
    clipEpsilon: z.number().gt(0).lt(1).default(0.2),
    /** Optimiser steps on the clipped objective per call (the data is reused). Default 5. */
    epochs: z.number().int().min(1).max(1000).default(5),
    /** Stop the epochs early once the mean KL of the adapted policies exceeds this; 0 disables. Default 0. */
    maxKl: z.number().min(0).default(0),
    /** Outer optimiser. Default Adam, learning rate 1e-3. */
    optimiser: optimiserConfig.default(optimiserConfig.parse({})),
    /** Returns, baseline and advantages (gamma 0.99, lambda 1). */
    advantages: advantageConfig.default(advantageConfig.parse({})),
  })
  .strict();
export type MamlPpoConfig = z.infer<typeof mamlPpoConfig>;

export interface MamlPpoDiagnostics {
  /** Clipped surrogate at theta_old (equal to the importance surrogate there). */
  readonly surrogateBefore: number;
  /** Clipped surrogate at the returned theta. */
  readonly surrogateAfter: number;
  /** Mean KL between the adapted policies at theta_old and at the returned theta. */
  readonly kl: number;
  /** Fraction of post-update steps whose ratio is outside [1 - eps, 1 + eps] at the returned theta. */
  readonly clipFraction: number;
  /** Optimiser steps taken. */
  readonly epochs: number;
}

const clippedObjective = (policy: Policy, phi: readonly (readonly Tensor[])[], post: readonly TaskData[], eps: number) =>
  tf.div(tf.addN(post.map((d, i) => ppoSurrogate(policy.logProb(phi[i], d.obs, d.actions), d.logProbs, d.advantages, undefined, eps))), post.length);

/**
 * MAML with a PPO-style outer objective: `epochs` optimiser steps on
 * mean_i clippedSurrogate(theta'_i(theta), D'_i), differentiating through the inner step
 * (unless firstOrder). For the continuous-adaptation work, where TRPO's line search is too
 * rigid. Pure: optimiser state in, optimiser state out.
 *
 * @example
 *   let state: OptimiserState | undefined;
 *   ({ theta, state } = mamlPpoStep(policy, theta, pre, post, mamlPpoConfig.parse({}), state));
 */
export function mamlPpoStep(
  policy: Policy,
  theta: readonly Float32Array[],
  pre: readonly TrajectoryBatch[],
  post: readonly TrajectoryBatch[],
  config: MamlPpoConfig,
  state?: OptimiserState,
): { theta: Float32Array[]; state: OptimiserState; diagnostics: MamlPpoDiagnostics } {
  if (pre.length !== post.length) throw invalidArgument('post', `needs one batch per task like pre (${pre.length}), got ${post.length}`);
  const names = policy.spec.map((p) => p.name);
  const sizes = theta.map((p) => p.length);
  const lr = config.innerLr;
  const eps = config.clipEpsilon;
  const th0 = paramTensors(policy, theta);
  let P: TaskData[] = [];
  let Q: TaskData[] = [];
  let old: DiagGaussian[] = [];
  try {
    P = uploadTasks(pre, taskAdvantages(pre, config.advantages), 'pre');
    Q = uploadTasks(post, taskAdvantages(post, config.advantages), 'post');
    old = tf.tidy(() => postDistributions(policy, adaptTasks(policy, th0, P, lr), Q).map((d) => ({ mean: d.mean, logStd: d.logStd })));
    const measure = (p: readonly Float32Array[]) => {
      const th = paramTensors(policy, p);
      const v = read(
        tf.tidy(() => {
          const phi = adaptTasks(policy, th, P, lr);
          const clip = tf.addN(Q.map((d, i) => clipFraction(policy.logProb(phi[i], d.obs, d.actions), d.logProbs, undefined, eps)));
          return tf.stack([clippedObjective(policy, phi, Q, eps), outerKl(policy, phi, Q, old), tf.div(clip, Q.length)]);
        }),
      );
      tf.dispose(th);
      return { surrogate: v[0], kl: v[1], clip: v[2] };
    };
    let params: Float32Array[] = theta.map((p) => p.slice());
    let opt = state ?? initialState(config.optimiser, names, sizes);
    let before = Number.NaN;
    let epochs = 0;
    while (epochs < config.epochs) {
      const th = paramTensors(policy, params);
      const flat = read(
        tf.tidy(() => {
          // First order: the inner displacement at this epoch's theta, as a constant.
          const shift = config.firstOrder ? innerStep(policy, P.map(() => th), P, lr).map((p) => p.map((t, k) => tf.sub(t, th[k]))) : undefined;
          const adapt = (p: readonly Tensor[]) => (shift ? shift.map((s) => p.map((x, k) => tf.add(x, s[k]))) : adaptTasks(policy, p, P, lr));
          const { value, grads } = tf.valueAndGrads((...p: Tensor[]) => tf.neg(clippedObjective(policy, adapt(p), Q, eps)) as tf.Scalar)(th);
          return tf.concat([tf.reshape(value, [1]), flattenTensors(grads)]);
        }),
      );
      tf.dispose(th);
      if (epochs === 0) before = -flat[0];
      ({ params, state: opt } = optimiserStep(config.optimiser, names, params, unflattenHost(flat.subarray(1), sizes), opt));
      epochs++;
      if (config.maxKl > 0 && epochs < config.epochs && measure(params).kl > config.maxKl) break;
    }
    const m = measure(params);
    return { theta: params, state: opt, diagnostics: { surrogateBefore: before, surrogateAfter: m.surrogate, kl: m.kl, clipFraction: m.clip, epochs } };
  } finally {
    disposeTasks(P);
    disposeTasks(Q);
    tf.dispose([...th0, ...old.flatMap((d) => [d.mean, d.logStd])]);
  }
}

function read(t: Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}
