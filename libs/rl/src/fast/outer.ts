import { dim, tf, type Tensor } from '@chameleon/nn';
import { addRows, forward, groupSum, jvp, mulRows, vjp, type Activation, type Forward, type Net } from './net';
import type { TaskRows } from './rows';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The outer (post-update) objectives on D'_i with the adapted parameters phi_i, as
 * per-row weights over all tasks' rows: with k_n = 1 / (T N'_i),
 *
 *   L  = sum_n k_n adv_n exp(log pi(a_n | s_n) - log pi_behaviour(a_n | s_n))
 *   KL = sum_n k_n KL(pi_old(. | s_n) || pi(. | s_n))
 *
 * (the mean over tasks of per-task means, as outerSurrogate / outerKl), their gradients
 * with respect to phi, and the Fisher-vector products of the KL at phi_old.
 */
export interface OuterPoint {
  /** phi: per task, or shared when the inner step is zero. */
  readonly net: Net;
  readonly fwd: Forward;
  readonly rows: TaskRows;
  /** k_n = 1 / (T N'_i) on real rows, [rows, 1]. */
  readonly k: Tensor;
  /** k_n exp(-2 logStd) per row, [rows, A]: the mean block of the Fisher weights. */
  readonly ke2: Tensor;
}

/** The forward pass at phi on the post-update rows and the Fisher weights. Call inside tf.tidy. */
export function outerPoint(net: Net, rows: TaskRows, act: Activation): OuterPoint {
  const fwd = forward(net, rows.observations, act);
  const k = tf.div(rows.meanWeight, rows.tasks);
  const ke2 = tf.mul(mulRows(tf.onesLike(fwd.mu), tf.exp(tf.mul(net.logStd, -2)), net.tasks), k);
  return { net, fwd, rows, k, ke2 };
}

/**
 * The Fisher matrix of the mean KL at phi (its Hessian there) times u: J^T M J u with M =
 * diag(k e^{-2 logStd}) on the mean and 2 k on logStd (the KL of diagonal Gaussians has no
 * mean/logStd cross term at pi = pi_old). u shared or per task; summed within `groups`
 * (T: every task's product; 1: their sum, for a shared u).
 */
export function fisherProduct(p: OuterPoint, u: Net, groups: number): Net {
  if (groups === 1 && u.tasks !== 1) throw new Error('fisherProduct: a per-task direction needs per-task groups');
  const g = tf.mul(p.ke2, jvp(p.net, p.fwd, u).mu);
  const { w, b } = vjp(p.net, p.fwd, g, groups, p.rows.ones);
  // sum_n k_n per group: [groups, 1], or [1].
  const logStd = tf.mul(tf.mul(u.logStd, groupSum(p.k, groups, p.rows.ones)), 2);
  return { tasks: groups, w, b, logStd };
}

/** Per-row standardised residuals e = (a - mu) exp(-logStd) and log pi(a | s) [rows, 1]. */
function logProb(net: Net, mu: Tensor, rows: TaskRows): { amu: Tensor; e: Tensor; logp: Tensor } {
  const amu = tf.sub(rows.actions, mu);
  const e = mulRows(amu, tf.exp(tf.neg(net.logStd)), net.tasks);
  const lsSum = tf.sum(net.logStd, -1); // [T] or scalar
  const quad = tf.mul(tf.sum(tf.square(e), 1, true), -0.5);
  const A = dim(rows.actions, 1);
  const logp = tf.sub(net.tasks === 1 ? tf.sub(quad, lsSum) : addRows(quad, tf.neg(tf.reshape(lsSum, [-1, 1])), net.tasks), A * HALF_LOG_2PI);
  return { amu, e, logp };
}

/** L at phi (from the mean `mu` = forward(phi).mu): a scalar, and the per-row weights of its gradient. */
function surrogateTerms(net: Net, mu: Tensor, rows: TaskRows) {
  const { amu, e, logp } = logProb(net, mu, rows);
  const wr = tf.mul(tf.mul(rows.meanAdvantage, tf.exp(tf.sub(logp, rows.behaviourLogProbs))), 1 / rows.tasks);
  return { value: tf.sum(wr), amu, e, wr };
}

/** L and grad_phi L, summed within `groups`. Call inside tf.tidy. */
export function surrogateGradient(p: OuterPoint, groups: number): { value: Tensor; grad: Net } {
  const { value, amu, e, wr } = surrogateTerms(p.net, p.fwd.mu, p.rows);
  const gmu = tf.mul(mulRows(amu, tf.exp(tf.mul(p.net.logStd, -2)), p.net.tasks), wr);
  const logStd = groupSum(tf.mul(tf.sub(tf.square(e), 1), wr), groups, p.rows.ones);
  const { w, b } = vjp(p.net, p.fwd, gmu, groups, p.rows.ones);
  return { value, grad: { tasks: groups, w, b, logStd } };
}

/** The old policies on D'_i: their means and log-stds. */
export interface OldPolicies {
  readonly mu: Tensor;
  readonly logStd: Tensor;
  readonly tasks: number;
}

/** KL(old || pi) per row, [rows, 1], with the pieces of its gradient. */
function klTerms(old: OldPolicies, net: Net, mu: Tensor) {
  const diff = tf.sub(mu, old.mu);
  const e2 = tf.exp(tf.mul(net.logStd, -2));
  const diffE2 = mulRows(diff, e2, net.tasks);
  // The logStd-only part per task: sum_j (lq - lp) + (exp(2 (lp - lq)) - 1) / 2.
  const dl = tf.sub(old.logStd, net.logStd); // lp - lq, [A] or [T, A]
  const varRatio = tf.exp(tf.mul(dl, 2));
  const perTask = tf.sum(tf.sub(tf.mul(tf.sub(varRatio, 1), 0.5), dl), -1);
  const quad = tf.mul(tf.sum(tf.mul(diffE2, diff), 1, true), 0.5);
  const tasks = Math.max(net.tasks, old.tasks);
  const kl = tasks === 1 ? tf.add(quad, perTask) : addRows(quad, tf.reshape(perTask, [-1, 1]), tasks);
  return { kl, diff, diffE2, varRatio };
}

/** The surrogate and KL at phi (mean `mu`): [2]. */
export function surrogateAndKl(net: Net, mu: Tensor, rows: TaskRows, old: OldPolicies): Tensor {
  const { value } = surrogateTerms(net, mu, rows);
  const k = tf.div(rows.meanWeight, rows.tasks);
  return tf.stack([value, tf.sum(tf.mul(klTerms(old, net, mu).kl, k))]);
}

/** grad_phi KL(old || pi_phi) at phi (any point), summed within `groups`. Call inside tf.tidy. */
export function klGradient(net: Net, rows: TaskRows, old: OldPolicies, act: Activation, groups: number): Net {
  const fwd = forward(net, rows.observations, act);
  const k = tf.div(rows.meanWeight, rows.tasks);
  const { diff, diffE2, varRatio } = klTerms(old, net, fwd.mu);
  // d/dmu = k (mu - mu_old) e^{-2 lq};  d/dlq = k (1 - e^{2 (lp - lq)} - (mu - mu_old)^2 e^{-2 lq}).
  const tasks = Math.max(net.tasks, old.tasks);
  const lsRow = mulRows(tf.onesLike(diff), tf.sub(1, varRatio), tasks);
  const logStd = groupSum(tf.mul(tf.sub(lsRow, tf.mul(diffE2, diff)), k), groups, rows.ones);
  const { w, b } = vjp(net, fwd, tf.mul(diffE2, k), groups, rows.ones);
  return { tasks: groups, w, b, logStd };
}
