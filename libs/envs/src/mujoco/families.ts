import { z } from 'zod';
import { Rng } from '@chameleon/core';
import type { SplitName, TaskFamily } from '@chameleon/tasks';

/** Configuration of a forward/backward task family. */
export const directionFamilyConfig = z
  .object({
    /** Probability of direction +1 (forward); otherwise -1. Default 0.5 (MAML). */
    forwardProbability: z.number().min(0).max(1).default(0.5),
  })
  .strict();
export type DirectionFamilyConfig = z.infer<typeof directionFamilyConfig>;

/**
 * Tasks "run forward" (+1) or "run backward" (-1) along x, drawn independently per task
 * (Finn et al. 2017's HalfCheetahDir and AntDir). Params: `{ direction: 1 | -1 }`.
 */
export class DirectionFamily implements TaskFamily {
  readonly version = '1.0.0';
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];

  constructor(
    readonly name: string,
    readonly description: string,
    readonly config: DirectionFamilyConfig = directionFamilyConfig.parse({}),
  ) {}

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const rng = Rng.fromKeys(this.name, split, seed, index);
    return { direction: rng.next() < this.config.forwardProbability ? 1 : -1 };
  }
}
