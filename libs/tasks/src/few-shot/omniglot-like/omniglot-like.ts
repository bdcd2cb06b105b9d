import { z } from 'zod';
import { Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { SplitName, TaskFamily } from '../../task';
import { drawClasses, episodicFields, splitByFraction, type Rotation } from '../episodes';
import { charactersOf, omniglotLikeGeneratorConfig, type OmniglotLikeGeneratorConfig } from './generator';

export const omniglotLikeConfig = z
  .object({
    ...episodicFields,
    /** Fractions of the alphabets in the train and validation splits; the rest is test. Default 0.7 / 0.1. */
    splits: z
      .object({ train: z.number().min(0).max(1).default(0.7), validation: z.number().min(0).max(1).default(0.1) })
      .strict()
      .refine((s) => s.train + s.validation <= 1, 'train + validation must be at most 1')
      .default({ train: 0.7, validation: 0.1 }),
    /** The dataset. */
    generator: omniglotLikeGeneratorConfig.default(omniglotLikeGeneratorConfig.parse({})),
  })
  .strict();

export type OmniglotLikeConfig = z.infer<typeof omniglotLikeConfig>;

/** One class: a character of an alphabet, in one rotation. */
export interface OmniglotLikeClass {
  alphabet: number;
  character: number;
  rotation: Rotation;
}

/** The parameters of one task: its classes in label order (label l is classes[l]) and the dataset. */
export interface OmniglotLikeParams {
  dataset: 'omniglot-like';
  ways: number;
  classes: OmniglotLikeClass[];
  generator: OmniglotLikeGeneratorConfig;
}

/**
 * N-way classification tasks over a procedurally generated Omniglot-like dataset (hundreds of
 * alphabets of stroke-drawn characters, libs/envs/src/few-shot/omniglot-like renders them).
 * Splits hold disjoint alphabets, hence disjoint classes. Task i of a (split, seed) stream
 * depends only on (config, split, seed, i).
 *
 * @example
 *   const family = new OmniglotLikeFamily(omniglotLikeConfig.parse({ ways: 20 }));
 *   const [task] = sampleTasks(family, { split: 'train', seed: 1, start: 0, count: 1 });
 *   (task.params as OmniglotLikeParams).classes[3];  // the class labelled 3
 */
export class OmniglotLikeFamily implements TaskFamily {
  readonly name = 'omniglot-like';
  readonly version = '1.0.0';
  readonly description = 'N-way tasks over procedurally generated stroke alphabets (Omniglot-like, 28x28)';
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];
  private pools?: Record<SplitName, Int32Array>;

  constructor(readonly config: OmniglotLikeConfig = omniglotLikeConfig.parse({})) {}

  /** Classes of each split, flattened as (alphabet, character, rotation index) triples. */
  private classPools(): Record<SplitName, Int32Array> {
    if (this.pools) return this.pools;
    const g = this.config.generator;
    const alphabets = Array.from({ length: g.alphabets }, (_, a) => a);
    const bySplit = splitByFraction(alphabets, this.config.splits, `omniglot-like/${g.seed}`);
    const R = this.config.rotations.length;
    const pools = {} as Record<SplitName, Int32Array>;
    for (const split of this.splits) {
      const triples: number[] = [];
      for (const a of [...bySplit[split]].sort((x, y) => x - y)) {
        for (let c = 0; c < charactersOf(g, a); c++) for (let r = 0; r < R; r++) triples.push(a, c, r);
      }
      // One fixed shuffle, so that the label groups of the non-mutually-exclusive variant
      // (class j -> label j mod N) mix alphabets.
      const order = Rng.fromKeys(this.name, g.seed, split, 'pool').shuffle(Array.from({ length: triples.length / 3 }, (_, i) => i));
      const pool = new Int32Array(triples.length);
      order.forEach((from, to) => pool.set(triples.slice(3 * from, 3 * from + 3), 3 * to));
      pools[split] = pool;
    }
    this.pools = pools;
    return pools;
  }

  /** Number of classes in a split. */
  classCount(split: SplitName): number {
    return this.classPools()[split].length / 3;
  }

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const pool = this.classPools()[split];
    const rng = Rng.fromKeys(this.name, split, seed, index);
    const picks = drawClasses(rng, pool.length / 3, this.config.ways, this.config.mutuallyExclusive, split);
    const classes = picks.map((j) => ({ alphabet: pool[3 * j], character: pool[3 * j + 1], rotation: this.config.rotations[pool[3 * j + 2]] }));
    const params: OmniglotLikeParams = { dataset: 'omniglot-like', ways: this.config.ways, classes, generator: this.config.generator };
    return { ...params };
  }
}

export const omniglotLikeFamilyPlugin: PluginManifest<'task-family', OmniglotLikeConfig, TaskFamily> = {
  kind: 'task-family',
  name: 'omniglot-like',
  version: '1.0.0',
  description: 'N-way K-shot tasks over procedurally generated Omniglot-like alphabets (splits by alphabet)',
  configSchema: omniglotLikeConfig,
  create: (config) => new OmniglotLikeFamily(config),
};
