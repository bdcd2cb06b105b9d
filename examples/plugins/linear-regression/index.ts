/**
 * The linear-regression example plugin: a task family and the environment that draws its
 * data, registered together. Name this folder (or this file) under `plugins:` in a run config.
 */
import type { PluginManifest } from '@chameleon/plugins';
import { linearRegressionFamilyPlugin } from './family';
import { linearRegressionSourcePlugin } from './source';

export * from './family';
export * from './source';

/** What a run config's `plugins:` entry registers. */
export const plugins: PluginManifest[] = [linearRegressionFamilyPlugin, linearRegressionSourcePlugin];
