import { invalidArgument } from '@chameleon/core';
import { tf, type Tensor } from '@chameleon/nn';
import type { MamlRlProblem, MamlRlProblemOptions } from '../maml-problem';
import { paramTensors, taskAdvantages } from '../maml-rl';
import { GaussianMlpPolicy, type Policy } from '../policy';
import { flattenHost, unflattenToTensors } from '../trpo';
import type { TrajectoryBatch } from '../trajectory';
import { innerHvp, innerPoint, type InnerPoint } from './inner';
import { ACTIVATIONS, axpyNet, flattenNet, forward, netOf, netTensors, sumTasks, type Net } from './net';
import { fisherProduct, klGradient, outerPoint, surrogateAndKl, surrogateGradient, type OldPolicies, type OuterPoint } from './outer';
import { disposeRows, uploadRows, type TaskRows } from './rows';

/** True when the fused path computes this problem: a Gaussian MLP policy and the exact KL HVP. */
export const fusedProblemApplies = (policy: Policy, options: MamlRlProblemOptions): policy is GaussianMlpPolicy =>
  policy instanceof GaussianMlpPolicy && options.hvp === 'exact' && options.fused !== false;

/** Downloads a tensor and disposes it (outside any tidy: tidy would walk the typed array). */
function read(t: Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/** Runs f in a tf.tidy scope that keeps only the returned Net. */
const scoped = (f: () => Net): Net => tf.tidy(() => f() as unknown as tf.TensorContainer) as unknown as Net;

interface State {
  readonly theta: Net;
  readonly inner?: InnerPoint;
  readonly outer: OuterPoint;
  readonly old: OldPolicies;
}

/**
 * The MAML-RL outer problem of mamlRlProblem for a Gaussian MLP policy, fused: every task's
 * rows in one tensor set (./rows.ts), the network's forward, backward and forward-mode
 * passes written out (./net.ts), and everything that does not change across CG iterations
 * (activations, the inner gradients' backward pass, the adapted policies' forward pass at
 * theta_old) computed once. Same maths as the reference (tests compare them):
 *
 *   grad L = sum_i J_i^T grad_phi L_i(phi_i),  KL Hessian v = sum_i J_i^T F_i J_i v,
 *
 * J_i = I + alpha H_i the inner step's Jacobian (I when first order or alpha = 0), F_i the
 * adapted policy's Fisher matrix in closed form (./outer.ts), H_i t by the R-operator
 * (./inner.ts).
 */
export function fusedMamlRlProblem(policy: GaussianMlpPolicy, theta: readonly Float32Array[], pre: readonly TrajectoryBatch[], post: readonly TrajectoryBatch[], options: MamlRlProblemOptions): MamlRlProblem {
  if (pre.length !== post.length) throw invalidArgument('post', `needs one batch per task like pre (${pre.length}), got ${post.length}`);
  const lr = options.innerLr;
  const secondOrder = !options.firstOrder && lr !== 0;
  const act = ACTIVATIONS[policy.config.activation];
  const th = paramTensors(policy, theta);
  let P: TaskRows | undefined;
  let Q: TaskRows | undefined;
  try {
    P = uploadRows(pre, taskAdvantages(pre, options.advantages), 'pre');
    // Multi-task TRPO passes the same batches as pre and post: one upload serves both.
    Q = post === pre ? P : uploadRows(post, taskAdvantages(post, options.advantages), 'post');
  } catch (e) {
    tf.dispose(th);
    disposeRows(P);
    throw e;
  }
  const [preRows, postRows] = [P, Q];
  const adapt = (net: Net, inner?: InnerPoint): Net => (inner ? axpyNet(net, lr, inner.grads) : net);
  const state = tf.tidy((): tf.TensorContainer => {
    const thetaNet = netOf(th);
    const inner = lr !== 0 ? innerPoint(thetaNet, preRows, act, secondOrder) : undefined;
    const phi = adapt(thetaNet, inner);
    const outer = outerPoint(phi, postRows, act);
    // The old log-std is a copy: nothing later may alias it with a parameter being differentiated.
    const built: State = { theta: thetaNet, inner, outer, old: { mu: outer.fwd.mu, logStd: tf.clone(phi.logStd), tasks: phi.tasks } };
    return built as unknown as tf.TensorContainer;
  }) as unknown as State;
  const groups = secondOrder ? preRows.tasks : 1;
  /** J^T g summed over tasks: sum_i g_i + alpha sum_i H_i g_i (g per task), or g itself. */
  const pullBack = (g: Net, inner = state.inner) => (secondOrder && inner ? axpyNet(sumTasks(g), lr, innerHvp(inner, g, 1)) : sumTasks(g));
  const shared = (x: Float32Array) => netOf(unflattenToTensors(x, th));

  return {
    x0: flattenHost(theta),
    surrogateAndGradient() {
      const out = read(
        tf.tidy(() => {
          const { value, grad } = surrogateGradient(state.outer, groups);
          return tf.concat([tf.reshape(value, [1]), flattenNet(pullBack(grad))]);
        }),
      );
      return { surrogate: out[0], gradient: out.subarray(1) };
    },
    klGradient(x) {
      return read(
        tf.tidy(() => {
          const net = shared(x);
          // First order: the adapted parameters are x plus the inner step taken at theta_old.
          const inner = secondOrder ? innerPoint(net, preRows, act, true) : state.inner;
          return flattenNet(pullBack(klGradient(adapt(net, inner), postRows, state.old, act, groups), inner));
        }),
      );
    },
    klHvp(v) {
      return read(
        tf.tidy(() => {
          const vt = shared(v);
          if (!secondOrder) return flattenNet(fisherProduct(state.outer, vt, 1));
          // Each stage in its own scope: only parameter-sized results outlive it (peak memory).
          const u = scoped(() => axpyNet(vt, lr, innerHvp(state.inner!, vt, groups)));
          const w = scoped(() => fisherProduct(state.outer, u, groups));
          return flattenNet(pullBack(w));
        }),
      );
    },
    evaluate(x) {
      // Line-search points are real adaptations theta'_i(x), also when first order.
      const [surrogate, kl] = read(
        tf.tidy(() => {
          const net = shared(x);
          const phi = adapt(net, lr !== 0 ? innerPoint(net, preRows, act, false) : undefined);
          return surrogateAndKl(phi, forward(phi, postRows.observations, act, false).mu, postRows, state.old);
        }),
      );
      return { surrogate, kl };
    },
    dispose() {
      tf.dispose([...th, ...netTensors(state.theta)]);
      tf.dispose(state as unknown as tf.TensorContainer);
      disposeRows(preRows);
      if (postRows !== preRows) disposeRows(postRows);
    },
  };
}
