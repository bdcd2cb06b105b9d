import { z } from 'zod';

const record = z.record(z.string(), z.unknown());
const uint32 = z.number().int().min(0).max(0xffffffff);

/** How a policy adapts: vanilla policy-gradient steps (MAML's inner loop). */
export const policyAdaptationConfig = z
  .object({
    /** Policy-gradient steps. Default 1. */
    steps: z.number().int().min(0).max(20).default(1),
    /** Inner step size alpha. Default 0.1 (MAML-RL). */
    learningRate: z.number().min(0).max(100).default(0.1),
    /** Discount gamma. Default 0.99. */
    discount: z.number().gt(0).max(1).default(0.99),
    /** GAE lambda; 1.0 is Monte Carlo returns minus the linear baseline (MAML). Default 1.0. */
    gaeLambda: z.number().min(0).max(1).default(1),
  })
  .strict();

/**
 * A meta-RL run (MAML with policy gradients and a TRPO meta-step, Finn et al. 2017): every
 * field documented with its default. Defaults are small enough to run here in minutes; the
 * paper-scale settings are in configs/*-paper.yaml.
 */
export const rlRunConfig = z
  .object({
    /** Marks a reinforcement-learning run. */
    kind: z.literal('rl'),
    /** Run name. Default "rl-run". */
    name: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only').default('rl-run'),
    /** Seed of tasks, rollouts and initialisation. Default 1. */
    seed: uint32.default(1),
    /** External plugin modules. Default none. */
    plugins: z.array(z.string()).default([]),
    task: z
      .object({
        /** Task family. Default "2d-navigation". */
        family: z.string().default('2d-navigation'),
        /** Family configuration. */
        config: record.default({}),
      })
      .strict()
      .default({ family: '2d-navigation', config: {} }),
    environment: z
      .object({
        /** Environment plugin; default: named like the task family. */
        name: z.string().optional(),
        /** Environment configuration. */
        config: record.default({}),
      })
      .strict()
      .default({ config: {} }),
    policy: z
      .object({
        /** Policy plugin. Default "gaussian-mlp". */
        architecture: z.string().default('gaussian-mlp'),
        /** Policy configuration (observation/action sizes are filled from the environment). */
        config: record.default({}),
      })
      .strict()
      .default({ architecture: 'gaussian-mlp', config: {} }),
    algorithm: z
      .object({
        /** Meta-RL algorithm. Default "maml-trpo". */
        name: z.string().default('maml-trpo'),
        /** Its configuration (maml-trpo: maxKl, cgIterations, damping, lineSearch..., firstOrder). */
        config: record.default({}),
      })
      .strict()
      .default({ name: 'maml-trpo', config: {} }),
    inner: policyAdaptationConfig.default(policyAdaptationConfig.parse({})),
    meta: z
      .object({
        /** Meta-iterations. Default 50. */
        iterations: z.number().int().min(1).max(1e7).default(50),
        /** Tasks per meta-batch. Default 20 (MAML: 20 for 2D navigation, 40 for locomotion). */
        batchSize: z.number().int().min(1).max(10000).default(20),
        /** Episodes per task and sampling (MAML: 20). Default 10. */
        episodesPerTask: z.number().int().min(1).max(10000).default(10),
        /** Steps per episode; 0 uses the environment's limit (100 for 2D navigation, 200 for locomotion). Default 0. */
        horizon: z.number().int().min(0).max(100000).default(0),
        /**
         * Train on consecutive task pairs (T_i, T_{i+1}) of a sequence family (the task
         * sampler's SampleTaskPairs): pre-update rollouts on T_i, post-update rollouts of the
         * adapted policies on T_{i+1} (continuous adaptation, Al-Shedivat et al. 2018). Default
         * false: MAML's pre and post rollouts on the same task.
         */
        taskPairs: z.boolean().default(false),
      })
      .strict()
      .default({ iterations: 50, batchSize: 20, episodesPerTask: 10, horizon: 0, taskPairs: false }),
    rollouts: z
      .object({
        /** Steps per streamed trajectory chunk (32..256). Default 128. */
        chunkSteps: z.number().int().min(32).max(256).default(128),
        /** Worlds a simulator steps together per request. Default 64. */
        parallelWorlds: z.number().int().min(1).max(1024).default(64),
        /**
         * Where the policy acts: "simulator" (next to the simulator, streamed back; default)
         * or "learner" (the learner's Act RPC per step, for large or GPU policies).
         */
        inference: z.enum(['simulator', 'learner']).default('simulator'),
      })
      .strict()
      .default({ chunkSteps: 128, parallelWorlds: 64, inference: 'simulator' }),
    checkpoint: z.object({ /** Checkpoint every this many iterations (and at the end). Default 10. */ every: z.number().int().min(1).default(10) }).strict().default({ every: 10 }),
    baseline: z
      .object({
        /** Iterations of multi-task TRPO for the "pretrained" baseline; 0 skips it. Default 0. */
        iterations: z.number().int().min(0).max(1e7).default(0),
        /** Iterations of TRPO for the oracle that observes the task parameters; 0 skips it. Default 0. */
        oracleIterations: z.number().int().min(0).max(1e7).default(0),
      })
      .strict()
      .default({ iterations: 0, oracleIterations: 0 }),
    evaluation: z
      .object({
        /** Run the final evaluation. Default true. */
        enabled: z.boolean().default(true),
        /** Held-out test tasks. Default 20. */
        tasks: z.number().int().min(1).max(10000).default(20),
        /** Episodes per task and adaptation step. Default 10. */
        episodesPerTask: z.number().int().min(1).max(10000).default(10),
        /** Adaptation steps reported: 0..steps. Default 3. */
        steps: z.number().int().min(0).max(20).default(3),
        /** Evaluate a randomly initialised policy too. Default true. */
        randomInit: z.boolean().default(true),
        /** Tasks whose paths are kept for plots. Default 4. */
        paths: z.number().int().min(0).max(64).default(4),
        /** Seed of the held-out stream. Default 12345. */
        seed: uint32.default(12345),
      })
      .strict()
      .default({ enabled: true, tasks: 20, episodesPerTask: 10, steps: 3, randomInit: true, paths: 4, seed: 12345 }),
  })
  .strict();

export type RlRunConfig = z.infer<typeof rlRunConfig>;
export type PolicyAdaptationConfig = z.infer<typeof policyAdaptationConfig>;
