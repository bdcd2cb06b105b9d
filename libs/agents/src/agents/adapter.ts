import { z } from 'zod';
import { Rng } from '@chameleon/core';
import { tf, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { GaussianMlpPolicy, NormalMatrixCache, importanceSurrogate, isStepSizePolicy, likelihoodRatio, type Policy } from '@chameleon/rl';
import type { Agent, EpisodeRecord } from '../agent';
import { rowsWithAdvantages, type Rows } from '../batch';
import { gaussianMlpSurrogateGradient } from '../surrogate-gradient';
import { paramsFor, type AdaptationJob, type AgentContext, type AgentFactory } from '../context';

export const metaAdapterConfig = z
  .object({
    /** Checkpoint of a continuous-adaptation (or MAML-RL) run. */
    checkpoint: z.string().min(1),
    /** Most recent episodes the update uses (K of Algorithm 2). Default 4. */
    recentEpisodes: z.number().int().min(1).max(1000).default(4),
    /** Step size when the checkpoint has no learned "alpha/<param>" step sizes. Default 0.1. */
    stepSize: z.number().min(0).default(0.1),
    /** Discount. Default 0.99. */
    discount: z.number().gt(0).max(1).default(0.99),
    /** GAE lambda of the update's advantages. Default 1 (Monte Carlo returns minus the baseline, as MAML-RL); match what Algorithm 1 trained with. */
    gaeLambda: z.number().min(0).max(1).default(1),
    /** Act with the mean. Default false. */
    deterministic: z.boolean().default(false),
  })
  .strict();
export type MetaAdapterConfig = z.infer<typeof metaAdapterConfig>;

/**
 * The importance-corrected update of Al-Shedivat et al. (2018), Algorithm 2 / eq. 9:
 * phi = theta + alpha * grad_theta (1/K) sum_k [pi_theta(tau_k) / pi_phi_prev(tau_k)] * A(tau_k),
 * always from the meta-learned theta, with the K most recent trajectories (gathered with the
 * previous phi, so each step's ratio pi_theta / pi_phi_prev corrects for the policy that
 * acted). alpha is per-parameter when the checkpoint learned it. With `alpha` given per inner
 * step (a list of lists, Algorithm 1's M steps) the update repeats on the same trajectories,
 * each step's ratio taken at its own phi. `returns` is the discount, or the discount and GAE
 * lambda (default 1) of the advantages. `normalMatrices` keeps episodes' baseline
 * normal-equation matrices across updates (each episode is in K / episodes-per-round
 * consecutive updates of its session).
 */
export function importanceCorrectedUpdate(
  policy: Policy,
  theta: readonly Float32Array[],
  alpha: ReadonlyArray<Float32Array | number> | ReadonlyArray<ReadonlyArray<Float32Array | number>>,
  episodes: readonly EpisodeRecord[],
  returns: number | { readonly gamma: number; readonly lambda?: number },
  normalMatrices?: NormalMatrixCache,
): Float32Array[] {
  const { gamma, lambda = 1 } = typeof returns === 'number' ? { gamma: returns } : returns;
  const rows = rowsWithAdvantages(episodes, policy.observationSize, policy.actionSize, { gamma, lambda }, normalMatrices);
  if (rows.n === 0) return theta.map((t) => t.slice());
  const steps = (Array.isArray(alpha[0]) ? alpha : [alpha]) as ReadonlyArray<ReadonlyArray<Float32Array | number>>;
  const values = policy instanceof GaussianMlpPolicy ? gaussianMlpSteps(policy, theta, steps, rows) : tfjsSteps(policy, theta, steps, rows);
  // Importance weights of rows the current policy has moved far from can overflow (exp of a
  // large log-ratio), and one such row makes the whole step NaN: acting on it would emit NaN
  // actions. Such a step is dropped: the session falls back to theta, the meta-learned start.
  if (!values.every((v) => v.every(Number.isFinite))) return theta.map((t) => t.slice());
  return values;
}

/**
 * A gaussian-mlp's steps with its gradient written out ({@link gaussianMlpSurrogateGradient}:
 * the same values to float32 rounding, several times faster on wasm), phi = theta + alpha *
 * grad in float32 as tfjs computes it.
 */
function gaussianMlpSteps(policy: GaussianMlpPolicy, theta: readonly Float32Array[], steps: ReadonlyArray<ReadonlyArray<Float32Array | number>>, rows: Rows): Float32Array[] {
  let phi = theta.map((t) => t.slice());
  for (const a of steps) {
    const grads = gaussianMlpSurrogateGradient(policy, phi, rows.observations, rows.actions, rows.logProbs, rows.advantages, rows.n);
    phi = phi.map((t, i) => {
      const ai = a[i];
      const g = grads[i];
      const next = new Float32Array(t.length);
      for (let j = 0; j < t.length; j++) next[j] = t[j] + Math.fround((typeof ai === 'number' ? ai : ai.length === 1 ? ai[0] : ai[j]) * g[j]);
      return next;
    });
  }
  return phi;
}

/** Any other policy's steps, with tfjs's automatic gradient. */
function tfjsSteps(policy: Policy, theta: readonly Float32Array[], steps: ReadonlyArray<ReadonlyArray<Float32Array | number>>, rows: Rows): Float32Array[] {
  const out = tf.tidy(() => {
    let phi = theta.map((v, i) => tf.tensor(v, policy.spec[i].shape as number[]));
    const obs = tf.tensor2d(rows.observations, [rows.n, policy.observationSize]);
    const act = tf.tensor2d(rows.actions, [rows.n, policy.actionSize]);
    const old = tf.tensor1d(rows.logProbs);
    const adv = tf.tensor1d(rows.advantages);
    for (const a of steps) {
      const { grads } = tf.valueAndGrads((...p: Tensor[]) => importanceSurrogate(policy.logProb(p, obs, act), old, adv) as tf.Scalar)(phi);
      phi = phi.map((t, i) => tf.add(t, tf.mul(stepTensor(a[i], policy.spec[i].shape), grads[i])));
    }
    return phi;
  });
  const values = out.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(out);
  return values;
}

/** A step size as a tensor: a number, one value per tensor ([1], broadcast) or one per parameter. */
const stepTensor = (a: Float32Array | number, shape: readonly number[]) => (typeof a === 'number' ? tf.scalar(a) : a.length === 1 ? tf.scalar(a[0]) : tf.tensor(a, shape as number[]));

/**
 * The importance weights pi_target(a|s) / pi_behaviour(a|s) of recorded episodes' rows under
 * `target` (behaviour = the log-probabilities recorded when acting): what eq. 9 weights by.
 */
export function importanceWeights(policy: Policy, target: readonly Float32Array[], episodes: readonly EpisodeRecord[]): Float32Array {
  const rows = rowsWithAdvantages(episodes, policy.observationSize, policy.actionSize);
  if (rows.n === 0) return new Float32Array(0);
  const w = tf.tidy(() => {
    const p = target.map((v, i) => tf.tensor(v, policy.spec[i].shape as number[]));
    const lp = policy.logProb(p, tf.tensor2d(rows.observations, [rows.n, policy.observationSize]), tf.tensor2d(rows.actions, [rows.n, policy.actionSize]));
    return likelihoodRatio(lp, tf.tensor1d(rows.logProbs));
  });
  const v = Float32Array.from(w.dataSync());
  w.dispose();
  return v;
}

/**
 * theta, the policy that acts and the step sizes of each inner step from a checkpoint: a
 * "gaussian-mlp-step-sizes" policy carries them in its parameters (Algorithm 1's alpha);
 * otherwise "alpha/<param>" entries when present, else the configured constant.
 */
export function metaAdapterParts(policy: Policy, params: Float32Array[], byName: ReadonlyMap<string, Float32Array>, stepSize: number) {
  if (isStepSizePolicy(policy)) {
    const { policy: theta, alpha } = policy.split(params);
    return { acting: policy.base as Policy, theta, alpha };
  }
  return { acting: policy, theta: params, alpha: [policy.spec.map((s) => byName.get(`alpha/${s.name}`) ?? stepSize)] };
}

export const metaAdapterAgent: PluginManifest<'agent', MetaAdapterConfig, AgentFactory> = {
  kind: 'agent',
  name: 'meta-adapter',
  version: '1.0.0',
  description: 'Continuous adaptation via meta-learning (Al-Shedivat et al. 2018): importance-corrected update from theta* with alpha* after every round',
  configSchema: metaAdapterConfig,
  create: (config) => (ctx) => {
    const ckpt = ctx.readCheckpoint(config.checkpoint);
    const policy = ctx.createPolicy(ckpt.policy.architecture, ckpt.policy.config);
    const byName = new Map(ckpt.params.names.map((n, i) => [n, ckpt.params.values[i]]));
    const { acting, theta, alpha } = metaAdapterParts(policy, paramsFor(policy, ckpt.params, `checkpoint ${config.checkpoint}`), byName, config.stepSize);
    // What a worker rebuilds to run the update: the acting policy's plugin and configuration.
    const actingSpec = isStepSizePolicy(policy) ? { architecture: 'gaussian-mlp', config: policy.base.config as unknown as Record<string, unknown> } : ckpt.policy;
    // Inline updates share one cache of episodes' baseline matrices (a worker keeps its own).
    const normalMatrices = ctx.offloadAdaptation ? undefined : new NormalMatrixCache();
    const returns = { gamma: config.discount, lambda: config.gaeLambda };
    let sessions = 0;
    const agent: Agent = {
      kind: 'agent',
      name: 'meta-adapter',
      description: metaAdapterAgent.description,
      observationSize: acting.observationSize,
      actionSize: acting.actionSize,
      session: ({ seed }) => {
        const rng = Rng.fromKeys('agent', seed);
        const id = `meta-adapter/${++sessions}`;
        let phi = theta;
        let recent: EpisodeRecord[] = [];
        return {
          act: (obs) => {
            const r = acting.act(phi, obs, 1, rng, config.deterministic);
            return { action: r.actions, logProb: r.logProbs[0] };
          },
          endRound: (episodes) => {
            recent = [...recent, ...episodes].slice(-config.recentEpisodes);
            const used = { episodesUsed: recent.length };
            if (!ctx.offloadAdaptation) {
              phi = importanceCorrectedUpdate(acting, theta, alpha, recent, returns, normalMatrices);
              return used;
            }
            return ctx.offloadAdaptation({ policy: actingSpec, theta, alpha, episodes: recent, discount: config.discount, gaeLambda: config.gaeLambda, session: id }).then((p) => {
              phi = p;
              return used;
            });
          },
          dispose: () => {
            recent = [];
          },
        };
      },
    };
    warmUp(ctx, acting, actingSpec, theta, alpha, returns);
    return agent;
  },
};

/**
 * Runs the update once on a synthetic episode when the agent is fielded, so that the first
 * opponent's first round does not pay for tfjs's and V8's first-call set-up (about 1.3 s here,
 * against about 40 ms for a warm update). Offloaded: fire and forget (a failure there shows on
 * the first real round); inline: synchronous, at start-up.
 */
function warmUp(ctx: AgentContext, acting: Policy, actingSpec: AdaptationJob['policy'], theta: Float32Array[], alpha: AdaptationJob['alpha'], returns: { gamma: number; lambda: number }): void {
  const rng = new Rng(0);
  const steps = 64;
  const observations = Float32Array.from({ length: steps * acting.observationSize }, () => rng.normal());
  const { actions, logProbs } = acting.act(theta, observations, steps, rng);
  const episode: EpisodeRecord = { length: steps, observations, actions, logProbs, rewards: Float32Array.from({ length: steps }, () => rng.normal()), discounts: new Float32Array(steps).fill(1) };
  if (ctx.offloadAdaptation) void ctx.offloadAdaptation({ policy: actingSpec, theta, alpha, episodes: [episode], discount: returns.gamma, gaeLambda: returns.lambda }).catch(() => undefined);
  else importanceCorrectedUpdate(acting, theta, alpha, [episode], returns);
}
