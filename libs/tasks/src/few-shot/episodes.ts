import { z } from 'zod';
import { Rng, invalidArgument } from '@chameleon/core';
import type { SplitName } from '../task';

/** The rotations of the Santoro et al. (2016) / Finn et al. (2017) protocol: each a class of its own. */
export const ROTATIONS = [0, 90, 180, 270] as const;
export type Rotation = (typeof ROTATIONS)[number];

/** Settings every N-way episodic family shares. */
export const episodicFields = {
  /** N: classes per task (labels 0 .. N-1). Default 5. */
  ways: z.number().int().min(2).max(1000).default(5),
  /** Rotations (degrees) that each character appears in, each a separate class. Default [0, 90, 180, 270] (Santoro et al. 2016). */
  rotations: z
    .array(z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]))
    .min(1)
    .refine((r) => new Set(r).size === r.length, 'rotations must be distinct')
    .default([0, 90, 180, 270]),
  /**
   * true: each task draws N distinct classes and labels them in a random order (the standard
   * protocol). false: the non-mutually-exclusive variant of Yin et al. (2020): every class has
   * one fixed label across all tasks (label slot l draws only from the l-th group of classes),
   * so a model can memorise labels without looking at the support set. Default true.
   */
  mutuallyExclusive: z.boolean().default(true),
};

/**
 * Picks the classes of task `index` from a split's pool of `pool` classes, in label order:
 * result[l] is the pool index of the class labelled l. Mutually exclusive: N distinct classes
 * in random label order. Otherwise class j always carries label j mod N (a fixed assignment
 * of the pool, whose order the caller has shuffled once).
 */
export function drawClasses(rng: Rng, pool: number, ways: number, mutuallyExclusive: boolean, split: SplitName): number[] {
  if (pool < ways) throw invalidArgument('ways', `the ${split} split has ${pool} classes, fewer than ways = ${ways}`);
  if (!mutuallyExclusive) {
    return Array.from({ length: ways }, (_, l) => {
      const members = Math.floor((pool - 1 - l) / ways) + 1;
      return l + ways * rng.int(members);
    });
  }
  const chosen: number[] = [];
  const seen = new Set<number>();
  while (chosen.length < ways) {
    const c = rng.int(pool);
    if (!seen.has(c)) {
      seen.add(c);
      chosen.push(c);
    }
  }
  return chosen;
}

/** Splits items into train / validation / test by fractions, after one seeded shuffle. */
export function splitByFraction<T>(items: readonly T[], fractions: { train: number; validation: number }, seed: number | string): Record<SplitName, T[]> {
  const order = Rng.fromKeys('split', seed).shuffle([...items]);
  const nTrain = Math.round(items.length * fractions.train);
  const nVal = Math.round(items.length * fractions.validation);
  return { train: order.slice(0, nTrain), validation: order.slice(nTrain, nTrain + nVal), test: order.slice(nTrain + nVal) };
}
