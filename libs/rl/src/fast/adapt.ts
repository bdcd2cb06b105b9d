import { tf } from '@chameleon/nn';
import { downloadPerTask } from '../flat';
import type { AdvantageConfig } from '../advantages';
import { paramTensors, taskAdvantages } from '../maml-rl';
import type { GaussianMlpPolicy } from '../policy';
import type { TrajectoryBatch } from '../trajectory';
import { innerPoint } from './inner';
import { ACTIVATIONS, axpyNet, flattenNet, netOf } from './net';
import { disposeRows, uploadRows, type TaskRows } from './rows';

/**
 * adaptPolicy for a Gaussian MLP: `steps` REINFORCE steps for every task at once (one
 * forward and backward pass over all tasks' rows, per-task gradient sums; see ./inner.ts).
 * Arguments are validated by adaptPolicy.
 */
export function fusedAdaptPolicy(policy: GaussianMlpPolicy, theta: readonly Float32Array[], batches: readonly TrajectoryBatch[], innerLr: number, steps: number, advantages: AdvantageConfig): Float32Array[][] {
  const th = paramTensors(policy, theta);
  let rows: TaskRows | undefined;
  try {
    rows = uploadRows(batches, taskAdvantages(batches, advantages), 'trajectories');
    if (steps === 0) return batches.map(() => theta.map((p) => p.slice()));
    const data = rows;
    const act = ACTIVATIONS[policy.config.activation];
    const flat = tf.tidy(() => {
      let net = netOf(th);
      for (let s = 0; s < steps; s++) net = axpyNet(net, innerLr, innerPoint(net, data, act, false).grads);
      return flattenNet(net);
    });
    // One download for everything, outside the tidy; task after task, each in the policy's order.
    return downloadPerTask(flat, theta, batches.length);
  } finally {
    tf.dispose(th);
    disposeRows(rows);
  }
}
