import { z } from 'zod';
import { optimiserConfig } from '@chameleon/meta';

const record = z.record(z.string(), z.unknown());
const uint32 = z.number().int().min(0).max(0xffffffff);

/**
 * A supervised meta-learning run: one typed object, every field with its default. Plugin
 * sections (`task.config`, `model.config`, ...) are validated by the plugin's own schema
 * when the services build it.
 */
export const runConfig = z
  .object({
    /** Run name, used for the run folder. Default "run". */
    name: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only').default('run'),
    /** Seed of the task stream, the data and the initialisation. Default 1. */
    seed: uint32.default(1),
    /** External plugin modules to load (paths relative to the config file). Default none. */
    plugins: z.array(z.string()).default([]),
    task: z
      .object({
        /** Task family plugin. Default "sinusoid". */
        family: z.string().default('sinusoid'),
        /** The family's configuration. */
        config: record.default({}),
      })
      .strict()
      .default({ family: 'sinusoid', config: {} }),
    environment: z
      .object({
        /** Environment (data source) configuration; the environment is named like the family. */
        config: record.default({}),
      })
      .strict()
      .default({ config: {} }),
    model: z
      .object({
        /** Model plugin. Default "mlp". */
        architecture: z.string().default('mlp'),
        /** The model's configuration (for mlp: inputSize, hidden, outputSize, activation, init). */
        config: record.default({}),
      })
      .strict()
      .default({ architecture: 'mlp', config: {} }),
    algorithm: z
      .object({
        /** Algorithm plugin: maml, fomaml, reptile, pretrain, ... Default "maml". */
        name: z.string().default('maml'),
        /** The algorithm's configuration. */
        config: record.default({}),
      })
      .strict()
      .default({ name: 'maml', config: {} }),
    inner: z
      .object({
        /** Inner gradient steps during meta-training. Default 1. */
        steps: z.number().int().min(0).max(1000).default(1),
        /** Inner step size alpha. Default 0.01. */
        learningRate: z.number().min(0).max(1e3).default(0.01),
      })
      .strict()
      .default({ steps: 1, learningRate: 0.01 }),
    meta: z
      .object({
        /** Meta-iterations. Default 1000. */
        iterations: z.number().int().min(1).max(1e9).default(1000),
        /** Tasks per meta-batch. Default 25. */
        batchSize: z.number().int().min(1).max(10000).default(25),
        /** Outer optimiser. Default Adam, 0.001. */
        optimiser: optimiserConfig.default(optimiserConfig.parse({})),
      })
      .strict()
      .default({ iterations: 1000, batchSize: 25, optimiser: optimiserConfig.parse({}) }),
    data: z
      .object({
        /** K: support examples per task. Default 10. */
        supportSize: z.number().int().min(1).max(100000).default(10),
        /** Query examples per task in meta-training. Default 10. */
        querySize: z.number().int().min(0).max(100000).default(10),
      })
      .strict()
      .default({ supportSize: 10, querySize: 10 }),
    checkpoint: z
      .object({
        /** Write a checkpoint every this many iterations (and at the end). Default 1000. */
        every: z.number().int().min(1).default(1000),
      })
      .strict()
      .default({ every: 1000 }),
    validation: z
      .object({
        /** Validate on held-out tasks every this many iterations; 0 disables. Default 0. */
        every: z.number().int().min(0).default(0),
        /** Validation tasks. Default 100. */
        tasks: z.number().int().min(1).max(100000).default(100),
      })
      .strict()
      .default({ every: 0, tasks: 100 }),
    baseline: z
      .object({
        /** Iterations of joint training for the "pretrained" baseline; 0 skips it. Default 0. */
        iterations: z.number().int().min(0).max(1e9).default(0),
        /** Tasks per batch of the baseline. Default: meta.batchSize. */
        batchSize: z.number().int().min(1).max(10000).optional(),
        /** Baseline optimiser. Default Adam, 0.001. */
        optimiser: optimiserConfig.default(optimiserConfig.parse({})),
      })
      .strict()
      .default({ iterations: 0, optimiser: optimiserConfig.parse({}) }),
    evaluation: z
      .object({
        /** Run the final evaluation. Default true. */
        enabled: z.boolean().default(true),
        /** Held-out test tasks. Default 600. */
        tasks: z.number().int().min(1).max(100000).default(600),
        /** K at evaluation. Default: data.supportSize. */
        shots: z.number().int().min(1).max(100000).optional(),
        /** Query examples per task for measuring the loss. Default 100. */
        querySize: z.number().int().min(1).max(100000).default(100),
        /** Largest number of adaptation steps reported. Default 10. */
        steps: z.number().int().min(0).max(1000).default(10),
        /** Inner step size at evaluation. Default: inner.learningRate. */
        learningRate: z.number().min(0).optional(),
        /** Evaluate a randomly initialised network too. Default true. */
        randomInit: z.boolean().default(true),
        /** Example tasks with predictions for the report. Default 4. */
        examples: z.number().int().min(0).max(32).default(4),
        /** Seed of the held-out stream. Default 12345. */
        seed: uint32.default(12345),
      })
      .strict()
      .default({ enabled: true, tasks: 600, querySize: 100, steps: 10, randomInit: true, examples: 4, seed: 12345 }),
  })
  .strict();

export type RunConfig = z.infer<typeof runConfig>;
