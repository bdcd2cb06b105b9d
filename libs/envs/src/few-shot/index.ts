import type { PluginManifest } from '@chameleon/plugins';
import { omniglotSourcePlugin } from './omniglot/source';
import { omniglotLikeSourcePlugin } from './omniglot-like/source';

export * from './episode-source';
export * from './omniglot-like/source';
export * from './omniglot/source';
export { decodeGray, loadImage, resizeArea } from './omniglot/images';

/** The few-shot classification data sources (environments named like their task families). */
export const fewShotEnvironmentPlugins: PluginManifest[] = [omniglotLikeSourcePlugin, omniglotSourcePlugin];
