import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { invalidArgument } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { Task } from '@chameleon/tasks';
import { ROTATIONS, type OmniglotClass } from '@chameleon/tasks/src/few-shot';
import type { SupervisedSource } from '../../supervised/source';
import { EpisodeSource, LruCache, episodeClasses, type ClassImages } from '../episode-source';
import { SIDE, characterFiles, loadImage, writeRotated } from './images';

export const omniglotSourceConfig = z
  .object({
    /** Decoded 28x28 images kept in memory (784 bytes each; the release has 32,460). Default 40000. */
    cacheImages: z.number().int().min(1).max(10_000_000).default(40_000),
  })
  .strict();

export type OmniglotSourceConfig = z.infer<typeof omniglotSourceConfig>;

interface FolderClass extends OmniglotClass {
  dir: string;
}

class OmniglotImages implements ClassImages<FolderClass> {
  private readonly files = new Map<string, string[]>();
  private readonly images: LruCache<string, Uint8Array>;

  constructor(cacheImages: number) {
    this.images = new LruCache(cacheImages);
  }

  classes(task: Task, i: number): FolderClass[] {
    const raw = episodeClasses(task, i, 'omniglot');
    const root = (task.params as { root?: unknown }).root;
    if (typeof root !== 'string' || !isAbsolute(root)) throw invalidArgument(`tasks[${i}].params.root`, `must be an absolute path, got ${JSON.stringify(root)}`);
    return raw.map((c, l) => {
      const { character, rotation } = (c ?? {}) as Record<string, unknown>;
      const field = `tasks[${i}].params.classes[${l}]`;
      if (typeof character !== 'string' || character.split('/').some((p) => p === '..' || p === '')) throw invalidArgument(field, `character must be a folder below the root, got ${JSON.stringify(character)}`);
      if (!ROTATIONS.includes(rotation as never)) throw invalidArgument(field, `rotation must be one of ${ROTATIONS.join(', ')}, got ${JSON.stringify(rotation)}`);
      return { character, rotation: rotation as FolderClass['rotation'], dir: join(root, character) };
    });
  }

  private list(cls: FolderClass): string[] {
    let f = this.files.get(cls.dir);
    if (!f) {
      f = characterFiles(cls.dir);
      this.files.set(cls.dir, f);
    }
    return f;
  }

  instances(cls: FolderClass): number {
    return this.list(cls).length;
  }

  render(cls: FolderClass, k: number, out: Float32Array, offset: number): void {
    const path = join(cls.dir, this.list(cls)[k]);
    writeRotated(this.images.get(path, () => loadImage(path)), cls.rotation, out, offset);
  }
}

/**
 * The data source of the omniglot family: the released PNGs (105x105, 1-bit) decoded with
 * pngjs, area-resized to 28x28, inverted (strokes 1), rotated by the class's rotation.
 */
export function omniglotSource(config: OmniglotSourceConfig = omniglotSourceConfig.parse({})): SupervisedSource {
  return new EpisodeSource('omniglot', '1.0.0', 'Omniglot images (folder layout), 28x28x1, N-way episodes', [SIDE, SIDE, 1], new OmniglotImages(config.cacheImages));
}

export const omniglotSourcePlugin: PluginManifest<'environment', OmniglotSourceConfig, SupervisedSource> = {
  kind: 'environment',
  name: 'omniglot',
  version: '1.0.0',
  description: 'N-way episodes of Omniglot images read from images_background/ and images_evaluation/ (28x28x1, int32 labels)',
  configSchema: omniglotSourceConfig,
  create: (config) => omniglotSource(config),
};
