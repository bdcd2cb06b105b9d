export * from './step-size-policy';
export * from './meta-pairs';
export * from './plugin';
export * from './adapt';

import { continuousAdaptationPlugin } from './plugin';
import { stepSizePolicyPlugin } from './step-size-policy';

/** The policy with learned step sizes and Algorithm 1, for the built-in registry. */
export const continuousAdaptationRlPlugins = [stepSizePolicyPlugin, continuousAdaptationPlugin];
