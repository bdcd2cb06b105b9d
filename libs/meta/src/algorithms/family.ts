import type { PluginManifest } from '@chameleon/plugins';
import { anilPlugin } from './anil/anil';
import { caviaPlugin } from './cavia/cavia';
import { imamlPlugin } from './imaml/imaml';
import { mamlPlusPlusPlugin } from './maml-plus-plus/maml-plus-plus';
import { metaSgdPlugin } from './meta-sgd/meta-sgd';
import { mrMamlPlugin } from './mr-maml/mr-maml';

export * from './anil/anil';
export * from './cavia/cavia';
export * from './cavia/context-mlp';
export * from './imaml/imaml';
export * from './imaml/cg';
export * from './maml-plus-plus/maml-plus-plus';
export * from './maml-plus-plus/schedules';
export * from './meta-sgd/meta-sgd';
export * from './mr-maml/mr-maml';

/** MAML's family: Meta-SGD, ANIL, MAML++, CAVIA, iMAML, MR-MAML, as algorithm plugins (built in: @chameleon/builtins registers them). */
export const familyAlgorithms: PluginManifest[] = [metaSgdPlugin, anilPlugin, mamlPlusPlusPlugin, caviaPlugin, imamlPlugin, mrMamlPlugin];

/** Also loadable as a plugin module on its own (`plugins: [.../family.ts]`); names already registered are skipped. */
export default familyAlgorithms;
