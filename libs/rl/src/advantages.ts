import { z } from 'zod';
import { fitLinearBaseline, predictFinalValues, predictLinearBaseline, type NormalMatrixCache } from './baseline';
import { discountedReturns, gae, normaliseMasked } from './returns';
import type { TrajectoryBatch } from './trajectory';

export const advantageConfig = z
  .object({
    /** Discount gamma. Default 0.99 (MAML-RL). */
    gamma: z.number().min(0).max(1).default(0.99),
    /** GAE lambda. Default 1.0 (MAML-RL: advantages = Monte Carlo returns - baseline). */
    lambda: z.number().min(0).max(1).default(1),
    /** Normalise advantages per task over its real steps (rllab's center_adv). Default true. */
    normalise: z.boolean().default(true),
    /**
     * At a time limit (last step with discount 1): "none" treats the episode end as the end
     * of the return (MAML-RL's rllab code, plain Monte Carlo); "baseline" bootstraps from the
     * linear baseline's value of the final observation. Terminal steps never bootstrap. Default "none".
     */
    bootstrap: z.enum(['none', 'baseline']).default('none'),
    /** First ridge coefficient of the linear baseline. Default 1e-5. */
    baselineReg: z.number().positive().default(1e-5),
  })
  .strict();
export type AdvantageConfig = z.infer<typeof advantageConfig>;

export interface Advantages {
  /** [E, H] (normalised per task when configured), 0 on padding. */
  readonly advantages: Float32Array;
  /** [E, H] discounted Monte Carlo returns (the baseline's regression targets). */
  readonly returns: Float32Array;
  /** [E, H] baseline values. */
  readonly values: Float32Array;
}

/**
 * MAML-RL's sample processing: per task (by `taskOf`), fit the linear baseline to the
 * discounted returns of that task's episodes, predict it on the same episodes, form GAE
 * advantages and normalise them. The baseline is fitted on the very data it is used on,
 * as in MAML's code (each task's D_i). With `normalMatrices` the baseline fits reuse the
 * normal-equation matrices of episodes seen before (an agent's update meets each episode in
 * several consecutive rounds).
 *
 * @example
 *   const { advantages } = computeAdvantages(batch, advantageConfig.parse({}));
 */
export function computeAdvantages(batch: TrajectoryBatch, config: AdvantageConfig, normalMatrices?: NormalMatrixCache): Advantages {
  const returns = discountedReturns(batch, config.gamma);
  const values = new Float32Array(returns.length);
  const finals = new Float32Array(batch.episodes);
  const tasks = new Map<number, number[]>();
  for (let e = 0; e < batch.episodes; e++) {
    const list = tasks.get(batch.taskOf[e]);
    if (list) list.push(e);
    else tasks.set(batch.taskOf[e], [e]);
  }
  for (const episodes of tasks.values()) {
    const b = fitLinearBaseline(batch, returns, episodes, { regCoeff: config.baselineReg, normalMatrices });
    predictLinearBaseline(b, batch, episodes, values);
    predictFinalValues(b, batch, episodes, finals);
  }
  const advantages = gae(batch, values, config.gamma, config.lambda, config.bootstrap === 'baseline' ? finals : undefined);
  if (config.normalise) for (const episodes of tasks.values()) normaliseMasked(advantages, batch, episodes);
  return { advantages, returns, values };
}
