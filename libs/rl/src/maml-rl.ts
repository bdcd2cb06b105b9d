import { invalidArgument } from '@chameleon/core';
import { tf, type Tensor } from '@chameleon/nn';
import { downloadPerTask } from './flat';
import { computeAdvantages, type AdvantageConfig } from './advantages';
import { gaussianKl, gaussianLogProb, type DiagGaussian } from './gaussian';
import { importanceSurrogate } from './losses';
import { fusedAdaptPolicy } from './fast/adapt';
import { GaussianMlpPolicy, type Policy } from './policy';
import { episodeLength, type TrajectoryBatch } from './trajectory';

/**
 * One task's trajectories on the backend, real steps only (padding dropped): obs [n, obs],
 * actions [n, act], advantages and behaviour log-probabilities [n]. Advantages are constants.
 *
 * Why one tensor set per task and a loop over tasks rather than a leading task axis: on wasm
 * a batched matMul [T, N, 100] x [T, 100, 100] ran about 10x slower than T plain products
 * (measured: 550 ms vs 53 ms at T = 20, N = 1000), and slicing a task axis apart costs as much
 * again. Per-task tensors need no slicing at all.
 */
export interface TaskData {
  readonly steps: number;
  readonly obs: Tensor;
  readonly actions: Tensor;
  readonly advantages: Tensor;
  readonly logProbs: Tensor;
}

/** One task's real steps on the host: obs [n, obs], actions [n, act], advantages and behaviour log-probabilities [n]. */
export interface HostTaskSteps {
  readonly n: number;
  readonly obs: Float32Array;
  readonly act: Float32Array;
  readonly adv: Float32Array;
  readonly logp: Float32Array;
}

/** Gathers the real steps of each task's batch with its advantages [E_i * H_i], validated (errors name `field`). */
export function gatherTasks(batches: readonly TrajectoryBatch[], advantages: readonly Float32Array[], field = 'trajectories'): HostTaskSteps[] {
  if (batches.length === 0) throw invalidArgument(field, 'need trajectories for at least one task');
  const { observationSize: O, actionSize: A } = batches[0];
  return batches.map((b, i) => {
    if (b.observationSize !== O || b.actionSize !== A) throw invalidArgument(`${field}[${i}]`, `observation/action sizes ${b.observationSize}/${b.actionSize} differ from task 0's ${O}/${A}`);
    if (advantages[i].length !== b.episodes * b.horizon) throw invalidArgument(`${field}[${i}]`, 'advantages do not match the batch');
    let n = 0;
    for (let e = 0; e < b.episodes; e++) n += episodeLength(b, e);
    if (n === 0) throw invalidArgument(`${field}[${i}]`, 'has no real steps (every task needs at least one)');
    const [obs, act, adv, logp] = [new Float32Array(n * O), new Float32Array(n * A), new Float32Array(n), new Float32Array(n)];
    let k = 0;
    for (let e = 0; e < b.episodes; e++) {
      const len = episodeLength(b, e);
      const s = e * b.horizon;
      obs.set(b.observations.subarray(s * O, (s + len) * O), k * O);
      act.set(b.actions.subarray(s * A, (s + len) * A), k * A);
      adv.set(advantages[i].subarray(s, s + len), k);
      logp.set(b.logProbs.subarray(s, s + len), k);
      k += len;
    }
    return { n, obs, act, adv, logp };
  });
}

/** Uploads the real steps of each task's batch with its advantages [E_i * H_i]. */
export function uploadTasks(batches: readonly TrajectoryBatch[], advantages: readonly Float32Array[], field = 'trajectories'): TaskData[] {
  const { observationSize: O, actionSize: A } = batches[0] ?? { observationSize: 0, actionSize: 0 };
  return gatherTasks(batches, advantages, field).map((h) => ({
    steps: h.n,
    obs: tf.tensor2d(h.obs, [h.n, O]),
    actions: tf.tensor2d(h.act, [h.n, A]),
    advantages: tf.tensor1d(h.adv),
    logProbs: tf.tensor1d(h.logp),
  }));
}

export function disposeTasks(tasks: readonly TaskData[]): void {
  for (const d of tasks) tf.dispose([d.obs, d.actions, d.advantages, d.logProbs]);
}

/** Per-task advantages of per-task batches (baseline fitted on each batch itself). */
export const taskAdvantages = (batches: readonly TrajectoryBatch[], config: AdvantageConfig): Float32Array[] => batches.map((b) => computeAdvantages(b, config).advantages);

/** The inner objective of one task, J_i(phi) = mean(log pi_phi(a|s) A) on D_i (to maximise). */
export function innerObjective(policy: Policy, phi: readonly Tensor[], d: TaskData): Tensor {
  return tf.mean(tf.mul(policy.logProb(phi, d.obs, d.actions), d.advantages));
}

/**
 * One policy-gradient step for every task: phi_i <- phi_i + lr grad J_i(phi_i), in a single
 * gradient call over all tasks' parameters (the gradient of sum_i J_i with respect to phi_i is
 * task i's own). Differentiable: inside an outer gradient it gives second-order MAML.
 * `phi[i]` is task i's parameter list; tasks may share tensors (e.g. theta itself).
 */
export function innerStep(policy: Policy, phi: readonly (readonly Tensor[])[], data: readonly TaskData[], lr: number): Tensor[][] {
  const P = phi[0].length;
  // Distinct tensors per task, so that the gradient separates the tasks even when they share theta.
  const start = phi.map((p) => p.map((t) => tf.add(t, 0)));
  const grads = tf.grads((...flat: Tensor[]) => tf.addN(data.map((d, i) => innerObjective(policy, flat.slice(i * P, (i + 1) * P), d))))(start.flat());
  return start.map((p, i) => p.map((t, k) => tf.add(t, tf.mul(lr, grads[i * P + k]))));
}

/**
 * theta'_i(theta) = theta + lr grad J_i(theta), `steps` times on the same data, for every
 * task. Differentiable in theta (second order).
 */
export function adaptTasks(policy: Policy, theta: readonly Tensor[], data: readonly TaskData[], lr: number, steps = 1): Tensor[][] {
  let phi: Tensor[][] = data.map(() => [...theta]);
  for (let s = 0; s < steps; s++) phi = innerStep(policy, phi, data, lr);
  return phi;
}

/**
 * The MAML-RL outer surrogate: mean over tasks of mean(pi_phi_i / pi_behaviour * A') on the
 * post-update data D'_i. Scalar, to maximise.
 */
export function outerSurrogate(policy: Policy, phi: readonly (readonly Tensor[])[], post: readonly TaskData[]): Tensor {
  return tf.div(tf.addN(post.map((d, i) => importanceSurrogate(policy.logProb(phi[i], d.obs, d.actions), d.logProbs, d.advantages))), post.length);
}

/** The adapted policies' distributions on D'_i (the constants of the KL when taken at theta_old). */
export const postDistributions = (policy: Policy, phi: readonly (readonly Tensor[])[], post: readonly TaskData[]): DiagGaussian[] => post.map((d, i) => policy.distribution(phi[i], d.obs));

/** Mean over tasks of the mean KL(old_i || pi_phi_i) on D'_i. */
export function outerKl(policy: Policy, phi: readonly (readonly Tensor[])[], post: readonly TaskData[], old: readonly DiagGaussian[]): Tensor {
  return tf.div(tf.addN(post.map((d, i) => tf.mean(gaussianKl(old[i], policy.distribution(phi[i], d.obs))))), post.length);
}

/** Outer surrogate and KL together, with one forward pass per task on D'_i: [2]. */
export function outerSurrogateAndKl(policy: Policy, phi: readonly (readonly Tensor[])[], post: readonly TaskData[], old: readonly DiagGaussian[]): Tensor {
  const terms = post.map((d, i) => {
    const dist = policy.distribution(phi[i], d.obs);
    return tf.stack([importanceSurrogate(gaussianLogProb(dist, d.actions), d.logProbs, d.advantages), tf.mean(gaussianKl(old[i], dist))]);
  });
  return tf.div(tf.addN(terms), post.length);
}

/** Host parameter list -> tensors shaped by the policy's spec (validated). */
export function paramTensors(policy: Policy, theta: readonly Float32Array[], field = 'theta'): Tensor[] {
  if (theta.length !== policy.spec.length) throw invalidArgument(field, `expected ${policy.spec.length} parameter arrays (${policy.spec.map((p) => p.name).join(', ')}), got ${theta.length}`);
  return theta.map((v, i) => {
    const n = policy.spec[i].shape.reduce((a, b) => a * b, 1);
    if (v.length !== n) throw invalidArgument(`${field}[${i}]`, `${policy.spec[i].name} must hold ${n} values, got ${v.length}`);
    if (!v.every(Number.isFinite)) throw invalidArgument(`${field}[${i}]`, `${policy.spec[i].name} holds non-finite values`);
    return tf.tensor(v, policy.spec[i].shape as number[]);
  });
}

/**
 * Adapts shared parameters to each task on its trajectories D_i: `steps` REINFORCE steps
 * (advantages from the linear baseline fitted on D_i; with steps > 1 the same data is
 * reused). Returns one host parameter list per task: what actors sample D'_i with, and
 * what evaluation runs. A GaussianMlpPolicy takes the fused path (fast/adapt.ts) unless
 * `options.fused` is false (the reference, same maths).
 *
 * @example
 *   const adapted = adaptPolicy(policy, theta, preBatches, 0.1, 1, advantageConfig.parse({}));
 *   const post = collectEpisodes(env, (o, n, r) => policy.actRows(adapted, worldTask, o, n, r), ...);
 */
export function adaptPolicy(
  policy: Policy,
  theta: readonly Float32Array[],
  batches: readonly TrajectoryBatch[],
  innerLr: number,
  steps: number,
  advantages: AdvantageConfig,
  options: { readonly fused?: boolean } = {},
): Float32Array[][] {
  if (!(innerLr >= 0) || !Number.isFinite(innerLr)) throw invalidArgument('innerLr', `must be a finite number >= 0, got ${innerLr}`);
  if (!Number.isInteger(steps) || steps < 0) throw invalidArgument('steps', `must be an integer >= 0, got ${steps}`);
  if (options.fused !== false && policy instanceof GaussianMlpPolicy) return fusedAdaptPolicy(policy, theta, batches, innerLr, steps, advantages);
  const th = paramTensors(policy, theta);
  let data: TaskData[] = [];
  try {
    data = uploadTasks(batches, taskAdvantages(batches, advantages));
    // One download for everything, outside the tidy.
    return downloadPerTask(tf.tidy(() => tf.concat(adaptTasks(policy, th, data, innerLr, steps).flat().map((t) => tf.reshape(t, [-1])))), theta, batches.length);
  } finally {
    tf.dispose(th);
    disposeTasks(data);
  }
}
