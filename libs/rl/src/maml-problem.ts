import { invalidArgument } from '@chameleon/core';
import { tf, type Tensor } from '@chameleon/nn';
import type { AdvantageConfig } from './advantages';
import type { DiagGaussian } from './gaussian';
import { adaptTasks, disposeTasks, innerStep, outerKl, outerSurrogate, outerSurrogateAndKl, paramTensors, postDistributions, taskAdvantages, uploadTasks, type TaskData } from './maml-rl';
import { klHessianProducts, mamlKlHvp } from './maml-hvp';
import type { Policy } from './policy';
import { flattenHost, flattenTensors, hessianVectorProduct, unflattenToTensors } from './trpo';
import type { TrajectoryBatch } from './trajectory';
import { fusedMamlRlProblem, fusedProblemApplies } from './fast/problem';

export interface MamlRlProblemOptions {
  /** Inner step size alpha. */
  readonly innerLr: number;
  /** Treat the inner gradient as a constant (first-order MAML). */
  readonly firstOrder: boolean;
  /**
   * How the KL's Hessian-vector products are computed: "exact" (sum_i J_i^T F_i J_i v, three
   * second-order passes; see maml-hvp.ts), "double-backprop" (grad of (grad KL . v) through
   * everything: third order, slower, the reference), or "finite-difference" (central
   * differences of KL gradients, as MAML's code did).
   */
  readonly hvp: 'exact' | 'double-backprop' | 'finite-difference';
  readonly advantages: AdvantageConfig;
  /**
   * Take the fused path (fast/problem.ts) when it applies: a GaussianMlpPolicy with the
   * "exact" HVP. Same maths; false forces this generic reference. Default true.
   */
  readonly fused?: boolean;
}

/**
 * The MAML-RL outer problem of one meta-iteration with its data on the backend, as
 * functions of flat host parameter vectors:
 *   L(theta)  = mean_i surrogate(theta'_i(theta), D'_i),
 *   KL(theta) = mean_i KL(pi_{theta'_i(theta_old)} || pi_{theta'_i(theta)}) on D'_i.
 * Owns tensors: call dispose().
 */
export interface MamlRlProblem {
  /** theta_old, flattened. */
  readonly x0: Float32Array;
  /** L and grad L at theta_old (through the inner step unless firstOrder). */
  surrogateAndGradient(): { surrogate: number; gradient: Float32Array };
  /** grad KL at x (through the inner step unless firstOrder). */
  klGradient(x: Float32Array): Float32Array;
  /** (Hessian of KL at theta_old) v. */
  klHvp(v: Float32Array): Float32Array;
  /** L and KL at x with the real adaptation theta'_i(x) (what the line search checks). */
  evaluate(x: Float32Array): { surrogate: number; kl: number };
  dispose(): void;
}

const sumTasks = (perTask: readonly (readonly Tensor[])[]): Tensor[] => perTask[0].map((_, k) => tf.addN(perTask.map((p) => p[k])));

/** Downloads a tensor and disposes it (outside any tidy: tidy would walk the typed array). */
function read(t: Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/**
 * Uploads pre-update (D_i) and post-update (D'_i) trajectories of T tasks with their
 * advantages, and computes the constants of the KL (the adapted policies at theta_old on D'_i).
 *
 * @example
 *   const problem = mamlRlProblem(policy, theta, pre, post, { innerLr: 0.1, firstOrder: false, hvp: 'exact', advantages });
 *   try { const { gradient } = problem.surrogateAndGradient(); } finally { problem.dispose(); }
 */
export function mamlRlProblem(policy: Policy, theta: readonly Float32Array[], pre: readonly TrajectoryBatch[], post: readonly TrajectoryBatch[], options: MamlRlProblemOptions): MamlRlProblem {
  if (fusedProblemApplies(policy, options)) return fusedMamlRlProblem(policy, theta, pre, post, options);
  if (pre.length !== post.length) throw invalidArgument('post', `needs one batch per task like pre (${pre.length}), got ${post.length}`);
  const lr = options.innerLr;
  const th = paramTensors(policy, theta);
  const owned: Tensor[] = [...th];
  let P: TaskData[] = [];
  let Q: TaskData[] = [];
  try {
    P = uploadTasks(pre, taskAdvantages(pre, options.advantages), 'pre');
    Q = uploadTasks(post, taskAdvantages(post, options.advantages), 'post');
  } catch (e) {
    tf.dispose(owned);
    disposeTasks(P);
    throw e;
  }
  const T = P.length;
  const nP = th.length;
  const kept = tf.tidy(() => {
    const phi = innerStep(policy, P.map(() => th), P, lr);
    const dists = postDistributions(policy, phi, Q);
    // First order: theta'_i = theta + (the inner displacement at theta_old), a constant.
    const shifts = options.firstOrder ? phi.flatMap((p) => p.map((t, k) => tf.sub(t, th[k]))) : [];
    // The old log-std is the adapted log_std tensor itself: clone it, or the exact HVP, which
    // differentiates with respect to the adapted parameters, would move the "constant" too.
    return [...dists.flatMap((d) => [d.mean, tf.clone(d.logStd)]), ...phi.flat(), ...shifts];
  });
  owned.push(...kept);
  const old: DiagGaussian[] = Array.from({ length: T }, (_, i) => ({ mean: kept[2 * i], logStd: kept[2 * i + 1] }));
  const at = (base: number, i: number) => kept.slice(base + i * nP, base + (i + 1) * nP);
  const phiOld = Array.from({ length: T }, (_, i) => at(2 * T, i));
  const shift = options.firstOrder ? Array.from({ length: T }, (_, i) => at(2 * T + T * nP, i)) : undefined;
  const adapted = (p: readonly Tensor[]) => (shift ? shift.map((s) => p.map((x, k) => tf.add(x, s[k]))) : adaptTasks(policy, p, P, lr));
  const surrogateOf = (...p: Tensor[]) => outerSurrogate(policy, adapted(p), Q) as tf.Scalar;
  const klOf = (...p: Tensor[]) => outerKl(policy, adapted(p), Q, old) as tf.Scalar;
  const x0 = flattenHost(theta);

  const klGradient = (x: Float32Array) => read(tf.tidy(() => flattenTensors(tf.grads(klOf)(unflattenToTensors(x, th)))));
  const fdHvp = (v: Float32Array) => {
    // Central differences of the KL gradient, eps = 1e-3 / |v|: second derivatives only
    // (what MAML's code did), accurate to about 1e-3 relative in float32.
    const norm = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
    if (norm === 0) return new Float32Array(v.length);
    const eps = 1e-3 / norm;
    const plus = klGradient(x0.map((a, i) => a + eps * v[i]));
    const minus = klGradient(x0.map((a, i) => a - eps * v[i]));
    return plus.map((p, i) => (p - minus[i]) / (2 * eps));
  };
  const exactHvp = (v: Float32Array) =>
    read(
      tf.tidy(() => {
        const vt = unflattenToTensors(v, th);
        // First order: theta'_i = theta + constant, so J_i = I and only the Fisher products remain.
        const hv = shift ? sumTasks(klHessianProducts(policy, phiOld, Q, old, Q.map(() => vt))) : mamlKlHvp(policy, th, P, phiOld, Q, old, lr, vt);
        return flattenTensors(hv);
      }),
    );
  return {
    x0,
    surrogateAndGradient() {
      const out = read(
        tf.tidy(() => {
          const { value, grads } = tf.valueAndGrads(surrogateOf)(th);
          return tf.concat([tf.reshape(value, [1]), flattenTensors(grads)]);
        }),
      );
      return { surrogate: out[0], gradient: out.subarray(1) };
    },
    klGradient,
    klHvp: options.hvp === 'exact' ? exactHvp : options.hvp === 'double-backprop' ? (v) => hessianVectorProduct(klOf, th, v) : fdHvp,
    evaluate(x) {
      // Line-search points are real adaptations theta'_i(x), also when firstOrder.
      const [surrogate, kl] = read(
        tf.tidy(() => {
          return outerSurrogateAndKl(policy, adaptTasks(policy, unflattenToTensors(x, th), P, lr), Q, old);
        }),
      );
      return { surrogate, kl };
    },
    dispose() {
      disposeTasks(P);
      disposeTasks(Q);
      tf.dispose(owned);
    },
  };
}
