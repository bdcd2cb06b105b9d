import { tf, type Tensor } from '@chameleon/nn';
import { gatherTasks } from '../maml-rl';
import type { TrajectoryBatch } from '../trajectory';

/**
 * Every task's real steps in one tensor set, task-major: task i owns rows
 * [i * perTask, (i + 1) * perTask). Tasks with fewer steps are padded with copies of their
 * last real step (finite everywhere, so 0 * anything stays 0) whose weights are zero: a
 * padded row contributes exactly nothing to any sum. Equal blocks let one kernel call do
 * what the reference path does in a loop over tasks.
 */
export interface TaskRows {
  readonly tasks: number;
  /** Rows per task (the longest task's steps, rounded up to a multiple of 4). */
  readonly perTask: number;
  /** Real steps per task. */
  readonly steps: readonly number[];
  readonly observations: Tensor;
  readonly actions: Tensor;
  /** Behaviour log-probabilities [rows, 1]. */
  readonly behaviourLogProbs: Tensor;
  /** adv_n / N_i on real rows, 0 on padding [rows, 1]: the weights of task i's mean of adv * (.). */
  readonly meanAdvantage: Tensor;
  /** 1 / N_i on real rows, 0 on padding [rows, 1]: the weights of a per-task mean. */
  readonly meanWeight: Tensor;
  /** [rows, 1] of ones: per-task column sums as products. */
  readonly ones: Tensor;
}

/**
 * Gathers (and validates, naming `field`) the real steps of every task's batch with its
 * advantages, and uploads them in the padded task-major layout.
 */
export function uploadRows(batches: readonly TrajectoryBatch[], advantages: readonly Float32Array[], field: string): TaskRows {
  const host = gatherTasks(batches, advantages, field);
  const T = host.length;
  const { observationSize: O, actionSize: A } = batches[0];
  const perTask = Math.ceil(Math.max(...host.map((h) => h.n)) / 4) * 4;
  const rows = T * perTask;
  const [obs, act, logb, advW, meanW] = [new Float32Array(rows * O), new Float32Array(rows * A), new Float32Array(rows), new Float32Array(rows), new Float32Array(rows)];
  host.forEach((h, i) => {
    const r0 = i * perTask;
    obs.set(h.obs, r0 * O);
    act.set(h.act, r0 * A);
    logb.set(h.logp, r0);
    for (let n = 0; n < h.n; n++) {
      advW[r0 + n] = h.adv[n] / h.n;
      meanW[r0 + n] = 1 / h.n;
    }
    for (let n = h.n; n < perTask; n++) {
      obs.copyWithin((r0 + n) * O, (r0 + h.n - 1) * O, (r0 + h.n) * O);
      act.copyWithin((r0 + n) * A, (r0 + h.n - 1) * A, (r0 + h.n) * A);
      logb[r0 + n] = logb[r0 + h.n - 1];
    }
  });
  return {
    tasks: T,
    perTask,
    steps: host.map((h) => h.n),
    observations: tf.tensor2d(obs, [rows, O]),
    actions: tf.tensor2d(act, [rows, A]),
    behaviourLogProbs: tf.tensor2d(logb, [rows, 1]),
    meanAdvantage: tf.tensor2d(advW, [rows, 1]),
    meanWeight: tf.tensor2d(meanW, [rows, 1]),
    ones: tf.ones([rows, 1]),
  };
}

export const disposeRows = (r: TaskRows | undefined): void => {
  if (r) tf.dispose([r.observations, r.actions, r.behaviourLogProbs, r.meanAdvantage, r.meanWeight, r.ones]);
};
