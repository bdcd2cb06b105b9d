import type { PluginManifest } from '@chameleon/plugins';
import { matchingPlugin } from './matching';
import { protoNetsPlugin } from './protonets';
import { snailPlugin } from './snail';

export * from './protonets';
export * from './matching';
export * from './snail';

/** Few-shot classification learners: prototypical networks, matching networks, a SNAIL-style black box. */
export const fewShotAlgorithms: PluginManifest[] = [protoNetsPlugin, matchingPlugin, snailPlugin];
