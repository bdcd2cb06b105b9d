import type { PluginManifest } from '@chameleon/plugins';
import { fomamlPlugin, mamlPlugin } from './algorithms/maml';
import { pretrainPlugin } from './algorithms/pretrain';
import { reptilePlugin } from './algorithms/reptile';

/** The built-in algorithm plugins. */
export const builtinAlgorithms: PluginManifest[] = [mamlPlugin, fomamlPlugin, reptilePlugin, pretrainPlugin];
