import { tf, type Tensor } from '@chameleon/nn';
import { perTask, taskDot } from '../common/unroll';

/**
 * Conjugate gradient for one symmetric positive-definite system per task, batched: solves
 * A_t x_t = b_t for every task t at once, where `matVec` applies all A_t to a parameter list
 * with a leading task axis and the step sizes are per task. Starts from x = 0 and runs
 * `iterations` steps (exact after as many steps as unknowns, in exact arithmetic); a task
 * meeting a direction of non-positive curvature stops where it is. Each
 * step runs in its own tidy, so memory stays flat in the number of steps.
 *
 * @example
 *   const x = conjugateGradient((v) => v.map((t) => tf.mul(2, t)), b, 5);  // x = b / 2
 */
export function conjugateGradient(matVec: (v: readonly Tensor[]) => Tensor[], b: readonly Tensor[], iterations: number): Tensor[] {
  let x = b.map((t) => tf.zerosLike(t));
  let r = b.map((t) => t.clone());
  let p = b.map((t) => t.clone());
  let rs = taskDot(r, r);
  for (let k = 0; k < iterations; k++) {
    const next = tf.tidy(() => {
      const ap = matVec(p);
      // divNoNan: a task whose residual is already zero stays put instead of turning NaN. A
      // direction of non-positive curvature (an indefinite system) is not taken: that task
      // keeps its current iterate (truncated CG) instead of stepping the wrong way.
      const pap = taskDot(p, ap);
      const alpha = tf.where(tf.greater(pap, 0), tf.divNoNan(rs, pap), tf.zerosLike(pap));
      const x2 = x.map((xi, i) => tf.add(xi, tf.mul(perTask(alpha, xi), p[i])));
      const r2 = r.map((ri, i) => tf.sub(ri, tf.mul(perTask(alpha, ri), ap[i])));
      const rs2 = taskDot(r2, r2);
      const beta = tf.divNoNan(rs2, rs);
      const p2 = r2.map((ri, i) => tf.add(ri, tf.mul(perTask(beta, ri), p[i])));
      return { x: x2, r: r2, p: p2, rs: rs2 };
    });
    tf.dispose([...x, ...r, ...p, rs]);
    ({ x, r, p, rs } = next);
  }
  tf.dispose([...r, ...p, rs]);
  return x;
}
