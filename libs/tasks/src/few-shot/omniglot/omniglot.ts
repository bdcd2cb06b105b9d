import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { Rng, invalidArgument } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { SplitName, TaskFamily } from '../../task';
import { drawClasses, episodicFields, type Rotation } from '../episodes';

/** The two folders of the Omniglot release (Lake et al. 2015). */
export const OMNIGLOT_FOLDERS = ['images_background', 'images_evaluation'] as const;

export const omniglotConfig = z
  .object({
    ...episodicFields,
    /** The folder holding images_background/ and images_evaluation/ (relative to the working directory). Default "data/omniglot". */
    root: z.string().min(1).default('data/omniglot'),
    /**
     * How classes are split. "characters" (Santoro et al. 2016; Finn et al. 2017): all
     * characters of both folders, shuffled once with `seed`; the first `train` for
     * meta-training, the next `validation`, the rest (423 of 1623) for test. "alphabets" (Lake
     * et al.): images_background for training minus its last `validationAlphabets` alphabets,
     * images_evaluation for test. Default characters, 1100 / 100.
     */
    split: z
      .discriminatedUnion('by', [
        z.object({ by: z.literal('characters'), train: z.number().int().min(1).default(1100), validation: z.number().int().min(0).default(100), seed: z.number().int().min(0).default(1) }).strict(),
        z.object({ by: z.literal('alphabets'), validationAlphabets: z.number().int().min(0).default(5) }).strict(),
      ])
      .default({ by: 'characters', train: 1100, validation: 100, seed: 1 }),
  })
  .strict();

export type OmniglotConfig = z.infer<typeof omniglotConfig>;

/** One class: a character folder (relative to the root), in one rotation. */
export interface OmniglotClass {
  character: string;
  rotation: Rotation;
}

/** The parameters of one task: the dataset root and its classes in label order. */
export interface OmniglotParams {
  dataset: 'omniglot';
  /** Absolute path of the dataset (the data source reads the images from here). */
  root: string;
  ways: number;
  classes: OmniglotClass[];
}

const subfolders = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => !n.startsWith('.') && statSync(join(dir, n)).isDirectory())
    .sort();

/** Character folders under root, as "images_background/<alphabet>/<character>", by folder. */
export function scanOmniglot(root: string): Record<(typeof OMNIGLOT_FOLDERS)[number], string[][]> {
  const found = OMNIGLOT_FOLDERS.filter((f) => existsSync(join(root, f)));
  if (found.length === 0) {
    throw invalidArgument('root', `no Omniglot data at ${root}: expected images_background/<alphabet>/<character>/*.png and images_evaluation/... (Lake et al. 2015). Nothing is downloaded at run time: put the extracted folders there`);
  }
  const out = { images_background: [] as string[][], images_evaluation: [] as string[][] };
  for (const folder of found) {
    for (const alphabet of subfolders(join(root, folder))) {
      out[folder].push(subfolders(join(root, folder, alphabet)).map((c) => `${folder}/${alphabet}/${c}`));
    }
  }
  return out;
}

/**
 * N-way classification tasks over the real Omniglot images in their released folder layout
 * (images_background/<alphabet>/<character>/*.png, likewise images_evaluation). Each
 * (character, rotation) is a class. The folder is read on the first draw, not at creation.
 */
export class OmniglotFamily implements TaskFamily {
  readonly name = 'omniglot';
  readonly version = '1.0.0';
  readonly description = 'N-way tasks over Omniglot character folders, rotations as extra classes (Santoro et al. 2016)';
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];
  readonly root: string;
  private pools?: Record<SplitName, OmniglotClass[]>;

  constructor(readonly config: OmniglotConfig = omniglotConfig.parse({})) {
    this.root = resolve(config.root);
  }

  /** The classes of each split, in the fixed order that defines the label groups of the non-mutually-exclusive variant. */
  classPools(): Record<SplitName, OmniglotClass[]> {
    if (this.pools) return this.pools;
    const scanned = scanOmniglot(this.root);
    const s = this.config.split;
    let characters: Record<SplitName, string[]>;
    if (s.by === 'characters') {
      const all = [...scanned.images_background.flat(), ...scanned.images_evaluation.flat()];
      if (all.length < s.train + s.validation + 1) {
        throw invalidArgument('split.train', `${all.length} characters under ${this.root} cannot make ${s.train} train + ${s.validation} validation + a test split`);
      }
      const order = Rng.fromKeys(this.name, 'characters', s.seed).shuffle(all);
      characters = { train: order.slice(0, s.train), validation: order.slice(s.train, s.train + s.validation), test: order.slice(s.train + s.validation) };
    } else {
      const bg = scanned.images_background;
      const cut = Math.max(0, bg.length - s.validationAlphabets);
      characters = { train: bg.slice(0, cut).flat(), validation: bg.slice(cut).flat(), test: scanned.images_evaluation.flat() };
    }
    const pools = {} as Record<SplitName, OmniglotClass[]>;
    for (const split of this.splits) {
      const classes = characters[split].flatMap((character) => this.config.rotations.map((rotation) => ({ character, rotation })));
      pools[split] = Rng.fromKeys(this.name, split, 'pool').shuffle(classes);
    }
    this.pools = pools;
    return pools;
  }

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const pool = this.classPools()[split];
    const rng = Rng.fromKeys(this.name, split, seed, index);
    const picks = drawClasses(rng, pool.length, this.config.ways, this.config.mutuallyExclusive, split);
    const params: OmniglotParams = { dataset: 'omniglot', root: this.root, ways: this.config.ways, classes: picks.map((j) => ({ ...pool[j] })) };
    return { ...params };
  }
}

export const omniglotFamilyPlugin: PluginManifest<'task-family', OmniglotConfig, TaskFamily> = {
  kind: 'task-family',
  name: 'omniglot',
  version: '1.0.0',
  description: 'N-way K-shot tasks over the Omniglot folders: 1200 characters x 4 rotations for meta-training (1100 + 100 validation), the rest for test',
  configSchema: omniglotConfig,
  create: (config) => new OmniglotFamily(config),
};
