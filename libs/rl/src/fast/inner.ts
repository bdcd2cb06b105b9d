import { mulAdd2, taskMatMul, tf, type Tensor } from '@chameleon/nn';
import { backThrough, forward, groupSum, jvp, mulRows, outer, type Activation, type Forward, type Net } from './net';
import type { TaskRows } from './rows';

/**
 * The inner objectives J_i(theta) = mean_n adv_n log pi_theta(a_n | s_n) on the pre-update
 * rows (REINFORCE, MAML's inner step), written out: with c_n = adv_n / N_i, e = (a - mu)
 * exp(-logStd),
 *
 *   dJ/dmu_n = c_n (a_n - mu_n) exp(-2 logStd),   dJ/dlogStd = sum_n c_n (e_n^2 - 1),
 *
 * backpropagated through the mean network; and the Hessian-vector products H_i t of the
 * same objectives (the Jacobian of the inner step is I + alpha H_i) by forward-mode
 * differentiation of that backward pass (Pearlmutter's R-operator), reusing everything that
 * does not depend on t.
 */
export interface InnerPoint {
  /** Shared parameters (tasks = 1). */
  readonly theta: Net;
  /** grad J_i(theta) for every task (tasks = T). */
  readonly grads: Net;
  /** What H_i t needs (only when asked for). */
  readonly hessian?: InnerHessian;
}

interface InnerHessian {
  readonly fwd: Forward;
  readonly ones: Tensor;
  /** a - mu. */
  readonly amu: Tensor;
  /** c * exp(-2 logStd), [rows, A]. */
  readonly ce2: Tensor;
  /** ce2 * (a - mu). */
  readonly ce2amu: Tensor;
  /** delta[l] = dJ/dz[l]. */
  readonly delta: readonly Tensor[];
  /** q[l] = (delta[l] W[l]^T) * f''(z[l - 1]) for l >= 1 (undefined for ReLU, where f'' = 0). */
  readonly q: readonly (Tensor | undefined)[];
}

/**
 * grad J_i at `net` (shared, or per task after a first inner step) for every task, and
 * with `hessian` (shared net only) the caches of innerHvp. Call inside tf.tidy.
 */
export function innerPoint(net: Net, rows: TaskRows, act: Activation, hessian: boolean): InnerPoint {
  const T = rows.tasks;
  const fwd = forward(net, rows.observations, act);
  const amu = tf.sub(rows.actions, fwd.mu);
  const e2 = tf.exp(tf.mul(net.logStd, -2));
  const c = rows.meanAdvantage;
  const amuE2 = mulRows(amu, e2, net.tasks);
  const L = net.w.length;
  const delta: Tensor[] = new Array(L);
  const q: (Tensor | undefined)[] = new Array(L);
  const [w, b]: [Tensor[], Tensor[]] = [new Array(L), new Array(L)];
  delta[L - 1] = tf.mul(amuE2, c);
  const logStd = groupSum(tf.mul(tf.sub(tf.mul(amuE2, amu), 1), c), T, rows.ones);
  for (let l = L - 1; l >= 0; l--) {
    w[l] = outer(fwd.x[l], delta[l], T);
    b[l] = groupSum(delta[l], T, rows.ones);
    if (l === 0) break;
    const back = backThrough(delta[l], net.w[l], net.tasks);
    delta[l - 1] = tf.mul(back, fwd.fp[l]);
    if (hessian) {
      const fpp = act.second(fwd.x[l], fwd.fp[l]);
      q[l] = fpp && tf.mul(back, fpp);
    }
  }
  const grads: Net = { tasks: T, w, b, logStd };
  if (!hessian) return { theta: net, grads };
  if (net.tasks !== 1) throw new Error('innerPoint: the Hessian caches need shared parameters');
  const ce2 = tf.mul(mulRows(tf.onesLike(amu), e2, 1), c);
  return { theta: net, grads, hessian: { fwd, ones: rows.ones, amu, ce2, ce2amu: tf.mul(ce2, amu), delta, q } };
}

/**
 * H_i t, the Hessian of J_i at the point's theta times a direction t (shared, or one per
 * task), summed within each of `groups` row blocks: groups = T gives every task's own
 * product, groups = 1 their sum. Call inside tf.tidy.
 *
 * With R{.} the derivative along t: R{mu} = J t (jvp), R{delta_top} = -c e^{-2 logStd}
 * (R{mu} + 2 (a - mu) t_logStd), R{dJ/dlogStd} = -2 sum c e^{-2 logStd} (a - mu)
 * (R{mu} + (a - mu) t_logStd); then down the layers
 * R{dW} = x^T R{delta} + R{x}^T delta and
 * R{delta[l - 1]} = (R{delta[l]} W^T + delta[l] t_W^T) f' + (delta[l] W^T) f'' R{z[l - 1]}.
 */
export function innerHvp(point: InnerPoint, t: Net, groups: number): Net {
  const h = point.hessian;
  if (!h) throw new Error('innerHvp: the inner point was built without its Hessian caches');
  const theta = point.theta;
  const r = jvp(theta, h.fwd, t);
  const amuV = mulRows(h.amu, t.logStd, t.tasks);
  const logStd = tf.mul(groupSum(tf.mul(h.ce2amu, tf.add(r.mu, amuV)), groups, h.ones), -2);
  let rd = tf.neg(tf.mul(h.ce2, tf.add(r.mu, tf.mul(amuV, 2))));
  const L = theta.w.length;
  const [w, b]: [Tensor[], Tensor[]] = [new Array(L), new Array(L)];
  for (let l = L - 1; l >= 0; l--) {
    w[l] = outer(h.fwd.x[l], rd, groups, l > 0 ? outer(r.rx[l], h.delta[l], groups) : undefined);
    b[l] = groupSum(rd, groups, h.ones);
    if (l === 0) break;
    const p = taskMatMul(rd, theta.w[l], 1, { transposeB: true, base: backThrough(h.delta[l], t.w[l], t.tasks) });
    const q = h.q[l];
    rd = q ? mulAdd2(p, h.fwd.fp[l], q, r.rz[l - 1]) : tf.mul(p, h.fwd.fp[l]);
  }
  return { tasks: groups, w, b, logStd };
}
