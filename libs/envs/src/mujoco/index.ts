import type { PluginManifest } from '@chameleon/plugins';
import { antDirEnvPlugin, antDirFamilyPlugin, antGoalEnvPlugin, antGoalFamilyPlugin } from './ant/ant';
import { halfCheetahDirEnvPlugin, halfCheetahDirFamilyPlugin, halfCheetahVelEnvPlugin, halfCheetahVelFamilyPlugin } from './half-cheetah/half-cheetah';

export { ensureMujoco, isMujocoLoaded, releaseUnusedModels, cachedModelCount } from './runtime';
export { MjSim } from './sim';
export { MujocoWorld, MujocoEnvironment, locomotionSpec, type MujocoWorldConfig } from './locomotion';
export * from './families';
export { mjcfDocument, type MjcfParts } from './models/mjcf';
export * from './models/half-cheetah';
export * from './models/legged';
export * from './half-cheetah/half-cheetah';
export * from './ant/ant';

/**
 * The MuJoCo locomotion plugins: four task families and four environments. Environments'
 * `create` is synchronous and needs no MuJoCo; their `createWorld` needs `await ensureMujoco()`.
 */
export const mujocoPlugins: readonly PluginManifest[] = [
  halfCheetahVelFamilyPlugin,
  halfCheetahDirFamilyPlugin,
  antDirFamilyPlugin,
  antGoalFamilyPlugin,
  halfCheetahVelEnvPlugin,
  halfCheetahDirEnvPlugin,
  antDirEnvPlugin,
  antGoalEnvPlugin,
];
