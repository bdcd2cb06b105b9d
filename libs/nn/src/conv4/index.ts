import type { PluginManifest } from '@chameleon/plugins';
import { conv4Plugin } from './conv4';

export * from './conv4';
export { batchNorm, conv2d, type Pads } from './ops';
export { maxPool2x2 } from './pool';

/** The few-shot model plugins of this folder. */
export const fewShotModelPlugins: PluginManifest[] = [conv4Plugin];
