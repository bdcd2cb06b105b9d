import { z } from 'zod';
import { invalidArgument } from '@chameleon/core';
import { initialState, optimiserConfig, optimiserStep, type OptimiserState } from '@chameleon/meta';
import { tf, type Tensor } from '@chameleon/nn';
import { advantageConfig, computeAdvantages } from '../advantages';
import { maskedMean } from '../smooth';
import { emptyBatch } from '../trajectory';
import { flattenTensors, unflattenHost } from '../trpo';
import type { GruPolicy } from './gru-policy';

/** One episode as an agent recorded it (structurally the agents' EpisodeRecord). */
export interface Rl2Episode {
  readonly length: number;
  readonly observations: Float32Array;
  readonly actions: Float32Array;
  readonly logProbs: Float32Array;
  readonly rewards: Float32Array;
  readonly discounts: Float32Array;
}

export const rl2PpoConfig = z
  .object({
    /** PPO clip epsilon. Default 0.2. */
    clipEpsilon: z.number().gt(0).lt(1).default(0.2),
    /** Adam steps per batch of trials. Default 5. */
    epochs: z.number().int().min(1).max(1000).default(5),
    /** Adam, learning rate 3e-3. */
    optimiser: optimiserConfig.default(optimiserConfig.parse({ learningRate: 3e-3, clipNorm: 1 })),
    /** Advantages: returns within each episode minus the linear baseline, normalised. */
    advantages: advantageConfig.default(advantageConfig.parse({})),
  })
  .strict();
export type Rl2PpoConfig = z.infer<typeof rl2PpoConfig>;

/** A trial (episodes in order, one hidden state throughout) as the GRU's inputs: [T * I]. */
export function trialInputs(policy: GruPolicy, trial: readonly Rl2Episode[]): Float32Array {
  const { observationSize: O, actionSize: A } = policy;
  const T = trial.reduce((s, e) => s + e.length, 0);
  const out = new Float32Array(T * policy.inputSize);
  let prevA: Float32Array = new Float32Array(A);
  let prevR = 0;
  let prevD = 0;
  let t = 0;
  for (const e of trial) {
    for (let k = 0; k < e.length; k++, t++) {
      out.set(policy.input({ observation: e.observations.subarray(k * O, (k + 1) * O), previousAction: prevA, previousReward: prevR, previousDone: prevD }), t * policy.inputSize);
      prevA = e.actions.subarray(k * A, (k + 1) * A);
      prevR = e.rewards[k];
      prevD = k === e.length - 1 ? 1 : 0;
    }
  }
  return out;
}

/** Per-step advantages of every episode of every trial, in trial order. */
function trialAdvantages(trials: readonly (readonly Rl2Episode[])[], O: number, A: number, config: Rl2PpoConfig): Float32Array[] {
  const episodes = trials.flat().filter((e) => e.length > 0);
  const H = Math.max(1, ...episodes.map((e) => e.length));
  const b = emptyBatch(episodes.length, H, O, A);
  episodes.forEach((e, i) => {
    b.observations.set(e.observations, i * H * O);
    b.actions.set(e.actions, i * H * A);
    b.rewards.set(e.rewards, i * H);
    b.logProbs.set(e.logProbs, i * H);
    b.discounts.set(e.discounts, i * H);
    b.mask.fill(1, i * H, i * H + e.length);
    b.finalObservations.set(e.observations.subarray((e.length - 1) * O, e.length * O), i * O);
  });
  const adv = computeAdvantages(b, config.advantages).advantages;
  let i = 0;
  return trials.map((trial) => {
    const out = new Float32Array(trial.reduce((s, e) => s + e.length, 0));
    let t = 0;
    for (const e of trial) {
      if (e.length === 0) continue;
      out.set(adv.subarray(i * H, i * H + e.length), t);
      t += e.length;
      i++;
    }
    return out;
  });
}

/**
 * PPO over sequences of episodes for the RL^2 policy: every trial is unrolled from a zero state
 * across its episodes (backpropagation through the whole trial); `epochs` Adam steps on the
 * clipped surrogate, padded steps masked out. Pure: optimiser state in and out.
 *
 * @example
 *   ({ params, state } = rl2PpoStep(policy, params, trials, rl2PpoConfig.parse({}), state));
 */
export function rl2PpoStep(policy: GruPolicy, params: readonly Float32Array[], trials: readonly (readonly Rl2Episode[])[], config: Rl2PpoConfig, state?: OptimiserState) {
  if (!trials.length || trials.some((t) => t.reduce((s, e) => s + e.length, 0) === 0)) throw invalidArgument('trials', 'need at least one trial, each with at least one step');
  const { observationSize: O, actionSize: A } = policy;
  const I = policy.inputSize;
  const B = trials.length;
  const T = Math.max(...trials.map((t) => t.reduce((s, e) => s + e.length, 0)));
  const [inputs, actions, old, adv, mask] = [new Float32Array(B * T * I), new Float32Array(B * T * A), new Float32Array(B * T), new Float32Array(B * T), new Float32Array(B * T)];
  const advantages = trialAdvantages(trials, O, A, config);
  trials.forEach((trial, b) => {
    inputs.set(trialInputs(policy, trial), b * T * I);
    let t = 0;
    for (const e of trial) {
      actions.set(e.actions.subarray(0, e.length * A), (b * T + t) * A);
      old.set(e.logProbs.subarray(0, e.length), b * T + t);
      t += e.length;
    }
    adv.set(advantages[b], b * T);
    mask.fill(1, b * T, b * T + t);
  });
  const names = policy.spec.map((s) => s.name);
  const sizes = params.map((p) => p.length);
  const eps = config.clipEpsilon;
  const data = { x: tf.tensor3d(inputs, [B, T, I]), a: tf.tensor3d(actions, [B, T, A]), old: tf.tensor2d(old, [B, T]), adv: tf.tensor2d(adv, [B, T]), mask: tf.tensor2d(mask, [B, T]) };
  const surrogate = (p: readonly Tensor[]) => {
    const r = tf.exp(tf.sub(policy.logProbSequences(p, data.x, data.a), data.old));
    const s = tf.minimum(tf.mul(r, data.adv), tf.mul(tf.clipByValue(r, 1 - eps, 1 + eps), data.adv));
    return tf.mean(maskedMean(s, data.mask));
  };
  const value = (p: readonly Float32Array[]) => {
    const v = tf.tidy(() => surrogate(p.map((x, i) => tf.tensor(x, policy.spec[i].shape as number[]))));
    const out = v.dataSync()[0];
    v.dispose();
    return out;
  };
  try {
    let current: Float32Array[] = params.map((p) => p.slice());
    let opt = state ?? initialState(config.optimiser, names, sizes);
    const before = value(current);
    for (let e = 0; e < config.epochs; e++) {
      const flat = tf.tidy(() => {
        const th = current.map((x, i) => tf.tensor(x, policy.spec[i].shape as number[]));
        const { grads } = tf.valueAndGrads((...p: Tensor[]) => tf.neg(surrogate(p)) as tf.Scalar)(th);
        return flattenTensors(grads);
      });
      const g = unflattenHost(flat.dataSync() as Float32Array, sizes);
      flat.dispose();
      ({ params: current, state: opt } = optimiserStep(config.optimiser, names, current, g, opt));
    }
    return { params: current, state: opt, diagnostics: { surrogateBefore: before, surrogateAfter: value(current), steps: mask.reduce((s, v) => s + v, 0) } };
  } finally {
    tf.dispose(Object.values(data));
  }
}
