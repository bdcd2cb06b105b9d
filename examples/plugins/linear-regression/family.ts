import { z } from 'zod';
import { Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { SplitName, TaskFamily } from '@chameleon/tasks';

/** Part of every task id: bump it whenever `draw` changes what it returns. */
export const FAMILY_VERSION = '1.0.0';

const range = (lo: number, hi: number) =>
  z
    .tuple([z.number(), z.number()])
    .refine(([a, b]) => a <= b, 'range must be [low, high] with low <= high')
    .default([lo, hi]);

/** Settings of the linear-regression family: y = w x + b. */
export const linearRegressionConfig = z
  .object({
    /** Range of the slope w, uniform. Default [-2, 2]. */
    slope: range(-2, 2),
    /** Range of the intercept b, uniform. Default [-1, 1]. */
    intercept: range(-1, 1),
  })
  .strict();

export type LinearRegressionConfig = z.infer<typeof linearRegressionConfig>;

/** Parameters of one task: the line y = slope * x + intercept. */
export interface LinearRegressionParams {
  slope: number;
  intercept: number;
}

/**
 * Linear regression tasks: slope w ~ U[-2, 2], intercept b ~ U[-1, 1]. `draw` is a pure
 * function of (split, seed, index); splits are disjoint streams of the same distribution.
 */
export class LinearRegressionFamily implements TaskFamily {
  readonly name = 'linear-regression';
  readonly version = FAMILY_VERSION;
  readonly description = 'Linear regression, y = w x + b (w ~ U[-2, 2], b ~ U[-1, 1])';
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];

  constructor(readonly config: LinearRegressionConfig = linearRegressionConfig.parse({})) {}

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const rng = Rng.fromKeys(this.name, split, seed, index);
    const params: LinearRegressionParams = {
      slope: rng.uniform(...this.config.slope),
      intercept: rng.uniform(...this.config.intercept),
    };
    return { ...params };
  }
}

export const linearRegressionFamilyPlugin: PluginManifest<'task-family', LinearRegressionConfig, TaskFamily> = {
  kind: 'task-family',
  name: 'linear-regression',
  version: FAMILY_VERSION,
  description: 'Linear regression tasks y = w x + b: w ~ U[-2, 2], b ~ U[-1, 1]',
  configSchema: linearRegressionConfig,
  create: (config) => new LinearRegressionFamily(config),
};
