/**
 * The TypeScript half of the Python simulator example: the "py-point-1d" task family, so
 * Chameleon's task sampler can draw the tasks the Python simulator (server.py) plays. Name
 * this file under `plugins:` in a run config, or pass it to `chameleon serve --plugins`.
 */
import { z } from 'zod';
import { Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { SplitName, TaskFamily } from '@chameleon/tasks';

/** Part of every task id: bump it whenever `draw` changes what it returns. */
export const FAMILY_VERSION = '1.0.0';

export const pyPoint1dConfig = z
  .object({
    /** Range of the goal g, uniform. Default [-1, 1]. */
    goalRange: z
      .tuple([z.number(), z.number()])
      .refine(([a, b]) => a <= b, 'range must be [low, high] with low <= high')
      .default([-1, 1]),
  })
  .strict();
export type PyPoint1dConfig = z.infer<typeof pyPoint1dConfig>;

/**
 * Tasks of a point on a line: each task is a goal g ~ U[-1, 1], params `{ goal }`. `draw`
 * is a pure function of (split, seed, index).
 */
export class PyPoint1dFamily implements TaskFamily {
  readonly name = 'py-point-1d';
  readonly version = FAMILY_VERSION;
  readonly description = 'Point on a line moving to a goal g ~ U[-1, 1] (played by the Python simulator)';
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];

  constructor(readonly config: PyPoint1dConfig = pyPoint1dConfig.parse({})) {}

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const rng = Rng.fromKeys(this.name, split, seed, index);
    return { goal: rng.uniform(...this.config.goalRange) };
  }
}

export const pyPoint1dFamilyPlugin: PluginManifest<'task-family', PyPoint1dConfig, TaskFamily> = {
  kind: 'task-family',
  name: 'py-point-1d',
  version: FAMILY_VERSION,
  description: 'Goals g ~ U[-1, 1] for the Python simulator example (examples/python-simulator)',
  configSchema: pyPoint1dConfig,
  create: (config) => new PyPoint1dFamily(config),
};

/** What a run config's `plugins:` entry registers. The environment lives in server.py. */
export const plugins: PluginManifest[] = [pyPoint1dFamilyPlugin];
