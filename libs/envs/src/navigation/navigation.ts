import { z } from 'zod';
import { Rng, invalidArgument } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { SplitName, Task, TaskFamily } from '@chameleon/tasks';
import type { EnvSpec, SequentialEnvironment, World } from '../rl/environment';

const range = (lo: number, hi: number) =>
  z
    .tuple([z.number(), z.number()])
    .refine(([a, b]) => a <= b, 'range must be [low, high] with low <= high')
    .default([lo, hi]);

/** 2D navigation tasks (Finn et al. 2017, section 5.3): a goal drawn uniformly in a square. */
export const navigationFamilyConfig = z.object({ /** Goal coordinates range, both axes. Default [-0.5, 0.5]. */ goalRange: range(-0.5, 0.5) }).strict();
export type NavigationFamilyConfig = z.infer<typeof navigationFamilyConfig>;

export class NavigationFamily implements TaskFamily {
  readonly name = '2d-navigation';
  readonly version = '1.0.0';
  readonly description = 'Point-mass navigation to a goal in U[-0.5, 0.5]^2 (Finn et al. 2017)';
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];

  constructor(readonly config: NavigationFamilyConfig = navigationFamilyConfig.parse({})) {}

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const rng = Rng.fromKeys(this.name, split, seed, index);
    const [lo, hi] = this.config.goalRange;
    return { goal: [rng.uniform(lo, hi), rng.uniform(lo, hi)] };
  }
}

export const navigationEnvConfig = z
  .object({
    /** Largest |velocity| per axis and step. Default 0.1. */
    maxAction: z.number().positive().default(0.1),
    /** Episode length. Default 100 (MAML). */
    horizon: z.number().int().min(1).max(100000).default(100),
    /** The episode ends when both coordinates are this close to the goal. Default 0.01. */
    goalTolerance: z.number().min(0).default(0.01),
  })
  .strict();
export type NavigationEnvConfig = z.infer<typeof navigationEnvConfig>;

export function goalOf(task: Task, field = 'task'): [number, number] {
  const g = task.params.goal;
  if (!Array.isArray(g) || g.length !== 2 || !g.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw invalidArgument(`${field}.params.goal`, `must be two finite numbers, got ${JSON.stringify(g)}`);
  }
  return [g[0], g[1]];
}

/** A point that moves by its (clipped) action; reward is minus the distance to the goal. */
class NavigationWorld implements World {
  private x = 0;
  private y = 0;
  private gx = 0;
  private gy = 0;

  constructor(private readonly config: NavigationEnvConfig) {}

  reset(task: Task, _rng: Rng, obs: Float32Array): void {
    [this.gx, this.gy] = goalOf(task);
    this.x = 0;
    this.y = 0;
    obs[0] = 0;
    obs[1] = 0;
  }

  step(action: Float32Array, obs: Float32Array) {
    this.x += action[0];
    this.y += action[1];
    obs[0] = this.x;
    obs[1] = this.y;
    const dx = this.x - this.gx;
    const dy = this.y - this.gy;
    const tol = this.config.goalTolerance;
    return { reward: -Math.sqrt(dx * dx + dy * dy), terminated: Math.abs(dx) < tol && Math.abs(dy) < tol };
  }
}

/** The 2D navigation environment of MAML's reinforcement-learning experiments. */
export class NavigationEnvironment implements SequentialEnvironment {
  readonly kind = 'sequential' as const;
  readonly name = '2d-navigation';
  readonly version = '1.0.0';
  readonly description = 'Point mass in the plane; reward = -distance to the goal; 100 steps';
  readonly family = '2d-navigation';
  readonly spec: EnvSpec;

  constructor(readonly config: NavigationEnvConfig = navigationEnvConfig.parse({})) {
    const m = config.maxAction;
    this.spec = { observationShape: [2], actionShape: [2], actionMinimum: [-m, -m], actionMaximum: [m, m], maxEpisodeSteps: config.horizon };
  }

  createWorld(): World {
    return new NavigationWorld(this.config);
  }

  validateTask(task: Task, field: string): void {
    goalOf(task, field);
  }
}

export const navigationFamilyPlugin: PluginManifest<'task-family', NavigationFamilyConfig, TaskFamily> = {
  kind: 'task-family',
  name: '2d-navigation',
  version: '1.0.0',
  description: 'Goals uniform in [-0.5, 0.5]^2 for 2D point navigation (MAML)',
  configSchema: navigationFamilyConfig,
  create: (c) => new NavigationFamily(c),
};

export const navigationEnvPlugin: PluginManifest<'environment', NavigationEnvConfig, SequentialEnvironment> = {
  kind: 'environment',
  name: '2d-navigation',
  version: '1.0.0',
  description: 'Point-mass navigation: obs = position, action = velocity in [-0.1, 0.1]^2, reward = -distance',
  configSchema: navigationEnvConfig,
  create: (c) => new NavigationEnvironment(c),
};
