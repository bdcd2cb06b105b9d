import { z } from 'zod';
import { Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { SplitName, TaskFamily } from '../task';

const range = (lo: number, hi: number) =>
  z
    .tuple([z.number(), z.number()])
    .refine(([a, b]) => a <= b, 'range must be [low, high] with low <= high')
    .default([lo, hi]);

/** Sinusoid family settings (Finn et al. 2017): y = amplitude * sin(x - phase). */
export const sinusoidConfig = z
  .object({
    /** Amplitude range, uniform. Default [0.1, 5.0]. */
    amplitude: range(0.1, 5.0),
    /** Phase range in radians, uniform. Default [0, pi]. */
    phase: range(0, Math.PI),
  })
  .strict();

export type SinusoidConfig = z.infer<typeof sinusoidConfig>;

/** Parameters of one sinusoid task. */
export interface SinusoidParams {
  amplitude: number;
  phase: number;
}

/**
 * The sinusoid regression family of MAML (Finn et al. 2017): amplitude U[0.1, 5.0],
 * phase U[0, pi]. Splits are disjoint random streams of the same distribution.
 */
export class SinusoidFamily implements TaskFamily {
  readonly name = 'sinusoid';
  readonly version = '1.0.0';
  readonly description = 'Sine regression, y = A sin(x - phase) (Finn et al. 2017)';
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];

  constructor(readonly config: SinusoidConfig = sinusoidConfig.parse({})) {}

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const rng = Rng.fromKeys(this.name, split, seed, index);
    const [a0, a1] = this.config.amplitude;
    const [p0, p1] = this.config.phase;
    const params: SinusoidParams = { amplitude: rng.uniform(a0, a1), phase: rng.uniform(p0, p1) };
    return { ...params };
  }
}

export const sinusoidFamilyPlugin: PluginManifest<'task-family', SinusoidConfig, TaskFamily> = {
  kind: 'task-family',
  name: 'sinusoid',
  version: '1.0.0',
  description: 'Sine regression tasks of MAML: amplitude U[0.1, 5], phase U[0, pi]',
  configSchema: sinusoidConfig,
  create: (config) => new SinusoidFamily(config),
};
