import type { PluginManifest } from '@chameleon/plugins';
import { omniglotFamilyPlugin } from './omniglot/omniglot';
import { omniglotLikeFamilyPlugin } from './omniglot-like/omniglot-like';

export * from './episodes';
export * from './omniglot-like/generator';
export * from './omniglot-like/omniglot-like';
export * from './omniglot/omniglot';

/** The few-shot classification task families. */
export const fewShotTaskPlugins: PluginManifest[] = [omniglotLikeFamilyPlugin, omniglotFamilyPlugin];
