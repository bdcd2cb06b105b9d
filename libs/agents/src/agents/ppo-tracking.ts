import { z } from 'zod';
import { Rng } from '@chameleon/core';
import { initialState, optimiserConfig, optimiserStep, type OptimiserState } from '@chameleon/meta';
import { tf, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { ppoSurrogate } from '@chameleon/rl';
import type { Agent } from '../agent';
import { rowsWithAdvantages } from '../batch';
import { paramsFor, type AgentFactory } from '../context';

export const ppoTrackingConfig = z
  .object({
    /** Checkpoint to start from. */
    checkpoint: z.string().min(1),
    /** Which parameters to start from: "theta", "baseline" or a trainee. Default "baseline". */
    params: z.string().default('baseline'),
    /** Adam epochs on each round's data. Default 5. */
    epochs: z.number().int().min(1).max(100).default(5),
    /** PPO clip epsilon. Default 0.2. */
    clipEpsilon: z.number().gt(0).lt(1).default(0.2),
    /** Adam settings. Default learning rate 3e-4. */
    optimiser: optimiserConfig.default(optimiserConfig.parse({ learningRate: 3e-4 })),
    /** Discount. Default 0.99. */
    discount: z.number().gt(0).max(1).default(0.99),
    /** GAE lambda of the advantages. Default 1 (Monte Carlo returns minus the baseline). */
    gaeLambda: z.number().min(0).max(1).default(1),
    /** Act with the mean. Default false. */
    deterministic: z.boolean().default(false),
  })
  .strict();
export type PpoTrackingConfig = z.infer<typeof ppoTrackingConfig>;

/**
 * "Tracking" (Al-Shedivat et al. 2018's baseline): keep fine-tuning the policy with PPO on
 * every round's experience, never resetting to an initialisation.
 */
export const ppoTrackingAgent: PluginManifest<'agent', PpoTrackingConfig, AgentFactory> = {
  kind: 'agent',
  name: 'ppo-tracking',
  version: '1.0.0',
  description: 'Keeps fine-tuning with PPO after every round (the tracking baseline)',
  configSchema: ppoTrackingConfig,
  create: (config) => (ctx) => {
    const ckpt = ctx.readCheckpoint(config.checkpoint);
    const policy = ctx.createPolicy(ckpt.policy.architecture, ckpt.policy.config);
    const source = config.params === 'theta' ? ckpt.params : config.params === 'baseline' ? (ckpt.baseline ?? ckpt.params) : ckpt.trainees[config.params];
    if (!source) throw new Error(`checkpoint ${config.checkpoint} has no "${config.params}" parameters`);
    const start = paramsFor(policy, source, `checkpoint ${config.checkpoint}`);
    const names = policy.spec.map((s) => s.name);
    const agent: Agent = {
      kind: 'agent',
      name: 'ppo-tracking',
      description: ppoTrackingAgent.description,
      observationSize: policy.observationSize,
      actionSize: policy.actionSize,
      session: ({ seed }) => {
        const rng = Rng.fromKeys('agent', seed);
        let phi: Float32Array[] = start.map((v) => v.slice());
        let state: OptimiserState = initialState(config.optimiser, names, phi.map((v) => v.length));
        return {
          act: (obs) => {
            const r = policy.act(phi, obs, 1, rng, config.deterministic);
            return { action: r.actions, logProb: r.logProbs[0] };
          },
          endRound: (episodes) => {
            const rows = rowsWithAdvantages(episodes, policy.observationSize, policy.actionSize, { gamma: config.discount, lambda: config.gaeLambda });
            if (rows.n === 0) return { episodesUsed: 0 };
            for (let e = 0; e < config.epochs; e++) {
              const grads = tf.tidy(() => {
                const p = phi.map((v, i) => tf.tensor(v, policy.spec[i].shape as number[]));
                const obs = tf.tensor2d(rows.observations, [rows.n, policy.observationSize]);
                const act = tf.tensor2d(rows.actions, [rows.n, policy.actionSize]);
                // Minimise the negative clipped surrogate.
                const { grads: g } = tf.valueAndGrads((...q: Tensor[]) => tf.neg(ppoSurrogate(policy.logProb(q, obs, act), tf.tensor1d(rows.logProbs), tf.tensor1d(rows.advantages), undefined, config.clipEpsilon)) as tf.Scalar)(p);
                return g;
              });
              const host = grads.map((g) => Float32Array.from(g.dataSync()));
              tf.dispose(grads);
              ({ params: phi, state } = optimiserStep(config.optimiser, names, phi, host, state));
            }
            return { episodesUsed: episodes.length };
          },
          dispose: () => undefined,
        };
      },
    };
    return agent;
  },
};
