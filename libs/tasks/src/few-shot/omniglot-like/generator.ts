import { z } from 'zod';
import { Rng } from '@chameleon/core';

const range = (lo: number, hi: number, min: number, max: number) =>
  z
    .tuple([z.number().min(min).max(max), z.number().min(min).max(max)])
    .refine(([a, b]) => a <= b, 'range must be [low, high] with low <= high')
    .default([lo, hi]);

/**
 * The procedural Omniglot-like dataset: which alphabets and characters exist, and how their
 * images are drawn. The task family validates it and copies it into every task, so the data
 * source renders exactly the dataset the family sampled from, whatever its own config.
 */
export const omniglotLikeGeneratorConfig = z
  .object({
    /** Seed of the whole dataset (alphabets, characters, instances). Default 0. */
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    /** Number of alphabets. Default 300 (Omniglot has 50). */
    alphabets: z.number().int().min(3).max(100_000).default(300),
    /** Characters per alphabet, uniform integer range. Default [14, 40] (Omniglot: 14-55). */
    charactersPerAlphabet: range(14, 40, 1, 1000),
    /** Drawn instances of each character (Omniglot: 20 drawers). Default 20. */
    instancesPerClass: z.number().int().min(1).max(10_000).default(20),
    /** Strokes per character, uniform integer range (each alphabet prefers part of it). Default [1, 4]. */
    strokes: range(1, 4, 1, 12),
    /** Per-instance jitter: rotation in degrees (uniform +-). Default 10. */
    rotationJitter: z.number().min(0).max(45).default(10),
    /** Per-instance jitter: scale range. Default [0.85, 1.1]. */
    scaleJitter: range(0.85, 1.1, 0.3, 3),
    /** Per-instance jitter: translation in pixels (uniform +-, each axis). Default 2. */
    translationJitter: z.number().min(0).max(8).default(2),
    /** Per-instance jitter: shear (uniform +-). Default 0.15. */
    shearJitter: z.number().min(0).max(1).default(0.15),
    /** Stroke thickness in pixels of the 28x28 image, range over instances. Default [1.2, 2.4]. */
    thickness: range(1.2, 2.4, 0.3, 6),
    /** Per-instance smooth distortion (pixels of displacement), like different hands. Default 0.8. */
    wobble: z.number().min(0).max(4).default(0.8),
  })
  .strict();

export type OmniglotLikeGeneratorConfig = z.infer<typeof omniglotLikeGeneratorConfig>;

/** Characters of alphabet a: a pure function of the dataset seed. */
export function charactersOf(g: OmniglotLikeGeneratorConfig, alphabet: number): number {
  const [lo, hi] = g.charactersPerAlphabet;
  return lo + Rng.fromKeys('omniglot-like', g.seed, 'alphabet', alphabet).int(hi - lo + 1);
}
