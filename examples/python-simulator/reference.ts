/**
 * py-point-1d written again in TypeScript, for tests only: the spec steps it through
 * Chameleon's own VectorEnv and simulator beside the Python server, and the two must agree
 * (same dynamics, same dm_env step types, discounts, clipping and resets). Not in `plugins`:
 * the environment a run uses is the Python one.
 */
import { z } from 'zod';
import { invalidArgument, type Rng } from '@chameleon/core';
import type { EnvSpec, SequentialEnvironment, World } from '@chameleon/envs';
import type { PluginManifest } from '@chameleon/plugins';
import type { Task } from '@chameleon/tasks';

export const referenceConfig = z
  .object({
    horizon: z.number().int().min(1).max(100000).default(50),
    maxAction: z.number().positive().default(0.2),
    goalTolerance: z.number().min(0).default(0.01),
  })
  .strict();
type ReferenceConfig = z.infer<typeof referenceConfig>;

function goalOf(task: Task, field = 'task'): number {
  const g = task.params.goal;
  if (typeof g !== 'number' || !Number.isFinite(g)) throw invalidArgument(`${field}.params.goal`, `must be a finite number, got ${JSON.stringify(g)}`);
  return g;
}

class PointWorld implements World {
  private x = 0;
  private goal = 0;

  constructor(private readonly tolerance: number) {}

  reset(task: Task, _rng: Rng, obs: Float32Array): void {
    this.goal = goalOf(task);
    this.x = 0;
    obs[0] = 0;
  }

  step(action: Float32Array, obs: Float32Array) {
    this.x += action[0];
    obs[0] = this.x;
    const d = Math.abs(this.x - this.goal);
    return { reward: -d, terminated: d < this.tolerance };
  }
}

export class ReferencePoint1d implements SequentialEnvironment {
  readonly kind = 'sequential' as const;
  readonly name = 'py-point-1d';
  readonly version = '1.0.0';
  readonly description = 'TypeScript reference of the Python simulator example';
  readonly family = 'py-point-1d';
  readonly spec: EnvSpec;

  constructor(private readonly config: ReferenceConfig = referenceConfig.parse({})) {
    const m = config.maxAction;
    this.spec = { observationShape: [1], actionShape: [1], actionMinimum: [-m], actionMaximum: [m], maxEpisodeSteps: config.horizon };
  }

  createWorld(): World {
    return new PointWorld(this.config.goalTolerance);
  }

  validateTask(task: Task, field: string): void {
    goalOf(task, field);
  }
}

export const referencePlugin: PluginManifest<'environment', ReferenceConfig, SequentialEnvironment> = {
  kind: 'environment',
  name: 'py-point-1d',
  version: '1.0.0',
  description: 'TypeScript reference of py-point-1d (tests only)',
  configSchema: referenceConfig,
  create: (c) => new ReferencePoint1d(c),
};
