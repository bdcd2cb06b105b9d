import { z } from 'zod';

const address = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port');

/** Settings every service shares. */
export const commonServiceConfig = z.object({
  /** Interface to listen on. Default 127.0.0.1; 0.0.0.0 serves other hosts. */
  host: z.string().default('127.0.0.1'),
  /** Port; 0 picks a free one. Default 0. */
  port: z.number().int().min(0).max(65535).default(0),
  /** Largest gRPC message in bytes. Default 64 MiB. */
  maxMessageBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
  /** External plugin modules to load. Default none. */
  plugins: z.array(z.string()).default([]),
  /** Seconds in-flight calls get to finish on shutdown. Default 10. */
  shutdownGraceSeconds: z.number().min(0).default(10),
});

export const learnerServiceConfig = commonServiceConfig.extend({
  /** Compute backend: auto picks tensorflow (if installed) -> wasm -> cpu. Default auto. */
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /**
   * MetaGradient: tasks per autodiff pass. 0 (default): automatic, the first call of a model,
   * algorithm and task shape measures one task's peak tensor memory and passes hold as many
   * tasks as fit passMemoryMb (the whole batch when it fits; one task over it is
   * RESOURCE_EXHAUSTED). N >= 1: N tasks at a time, unchecked. The gradient is the same.
   */
  tasksPerPass: z.number().int().min(0).default(0),
  /**
   * Automatic mode's budget of one pass's tensors, MiB. The wasm backend's heap cannot grow
   * beyond 4 GiB and also holds XNNPACK's buffers and the allocator's slack. Default 2048.
   */
  passMemoryMb: z.number().int().min(1).max(1024 * 1024).default(2048),
});

/** Where the other services are. */
export const peersConfig = z.object({
  taskSampler: address,
  /** One or more environment simulators (requests are spread round robin). */
  simulators: z.array(address).min(1),
  learner: address,
});

export const evaluatorServiceConfig = commonServiceConfig.extend({ peers: peersConfig });

export const metaOptimiserServiceConfig = commonServiceConfig.extend({
  peers: peersConfig.extend({ evaluator: address }),
  /** Folder for runs whose StartRun names no output folder. Default "runs". */
  runsDir: z.string().default('runs'),
  /**
   * StartRun's output_dir and resume_from must lie inside runsDir (relative ones are resolved
   * against it). Default true for a served meta-optimiser: a caller must not make the service
   * write or read wherever its user may. False restores any-path behaviour (trusted callers).
   */
  confineToRunsDir: z.boolean().default(true),
});

/** A services file for `chameleon train --services FILE`: addresses of running services. */
export const servicesFile = z
  .object({
    taskSampler: address,
    simulators: z.array(address).min(1),
    learner: address,
    metaOptimiser: address,
    evaluator: address,
  })
  .strict();

export type CommonServiceConfig = z.infer<typeof commonServiceConfig>;
export type LearnerServiceConfig = z.infer<typeof learnerServiceConfig>;
export type PeersConfig = z.infer<typeof peersConfig>;
export type EvaluatorServiceConfig = z.infer<typeof evaluatorServiceConfig>;
export type MetaOptimiserServiceConfig = z.infer<typeof metaOptimiserServiceConfig>;
export type ServicesFile = z.infer<typeof servicesFile>;
