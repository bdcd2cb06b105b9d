import { z } from 'zod';
import { invalidArgument, stableStringify } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { Task } from '@chameleon/tasks';
import { ROTATIONS, omniglotLikeGeneratorConfig, type OmniglotLikeClass, type OmniglotLikeGeneratorConfig } from '@chameleon/tasks/src/few-shot';
import type { SupervisedSource } from '../../supervised/source';
import { EpisodeSource, LruCache, episodeClasses, type ClassImages } from '../episode-source';
import { SIZE, distanceField, renderInstance } from './raster';
import { characterStrokes } from './strokes';

export const omniglotLikeSourceConfig = z
  .object({
    /** Characters whose stroke distance fields are kept (about 3 KB each). Default 8192. */
    cacheCharacters: z.number().int().min(1).max(1_000_000).default(8192),
  })
  .strict();

export type OmniglotLikeSourceConfig = z.infer<typeof omniglotLikeSourceConfig>;

interface RenderClass extends OmniglotLikeClass {
  generator: OmniglotLikeGeneratorConfig;
  key: string;
}

/** Renders the procedural characters; the dataset itself travels in each task's params. */
class StrokeImages implements ClassImages<RenderClass> {
  private readonly fields: LruCache<string, Uint8Array>;
  private readonly generators = new Map<string, OmniglotLikeGeneratorConfig>();

  constructor(cacheCharacters: number) {
    this.fields = new LruCache(cacheCharacters);
  }

  classes(task: Task, i: number): RenderClass[] {
    const raw = episodeClasses(task, i, 'omniglot-like');
    const generator = this.generator((task.params as { generator?: unknown }).generator, i);
    return raw.map((c, l) => {
      const { alphabet, character, rotation } = (c ?? {}) as Record<string, unknown>;
      const field = `tasks[${i}].params.classes[${l}]`;
      const ok = Number.isInteger(alphabet) && Number.isInteger(character) && (alphabet as number) >= 0 && (alphabet as number) < generator.alphabets && (character as number) >= 0;
      if (!ok) throw invalidArgument(field, `needs integer alphabet in [0, ${generator.alphabets}) and character >= 0, got ${JSON.stringify(c)}`);
      if (!ROTATIONS.includes(rotation as never)) throw invalidArgument(field, `rotation must be one of ${ROTATIONS.join(', ')}, got ${JSON.stringify(rotation)}`);
      return { alphabet, character, rotation, generator, key: `${generator.seed}/${alphabet}/${character}` } as RenderClass;
    });
  }

  private generator(raw: unknown, i: number): OmniglotLikeGeneratorConfig {
    const key = stableStringify(raw ?? null);
    let g = this.generators.get(key);
    if (!g) {
      const parsed = omniglotLikeGeneratorConfig.safeParse(raw);
      if (!parsed.success) throw invalidArgument(`tasks[${i}].params.generator`, parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; '));
      g = parsed.data;
      if (this.generators.size > 64) this.generators.clear();
      this.generators.set(key, g);
    }
    return g;
  }

  instances(cls: RenderClass): number {
    return cls.generator.instancesPerClass;
  }

  render(cls: RenderClass, k: number, out: Float32Array, offset: number): void {
    // Keyed by the whole generator: two datasets with the same seed but other stroke ranges differ.
    const field = this.fields.get(`${cls.key}/${stableStringify(cls.generator.strokes)}`, () => distanceField(characterStrokes(cls.generator, cls.alphabet, cls.character)));
    renderInstance(field, cls.generator, cls, k, out, offset);
  }
}

/**
 * The data source of the omniglot-like family: 28x28x1 images of procedurally drawn
 * characters, strokes 1 on 0, with per-instance affine jitter, thickness and wobble.
 */
export function omniglotLikeSource(config: OmniglotLikeSourceConfig = omniglotLikeSourceConfig.parse({})): SupervisedSource {
  return new EpisodeSource('omniglot-like', '1.0.0', 'Procedural Omniglot-like characters, 28x28x1, N-way episodes', [SIZE, SIZE, 1], new StrokeImages(config.cacheCharacters));
}

export const omniglotLikeSourcePlugin: PluginManifest<'environment', OmniglotLikeSourceConfig, SupervisedSource> = {
  kind: 'environment',
  name: 'omniglot-like',
  version: '1.0.0',
  description: 'N-way episodes of procedurally generated Omniglot-like characters (28x28x1, int32 labels)',
  configSchema: omniglotLikeSourceConfig,
  create: (config) => omniglotLikeSource(config),
};
