import type { PluginManifest } from '@chameleon/plugins';
import { antDirEnvPlugin, antDirFamilyPlugin, antGoalEnvPlugin, antGoalFamilyPlugin } from './ant/ant';
import { halfCheetahDirEnvPlugin, halfCheetahDirFamilyPlugin, halfCheetahVelEnvPlugin, halfCheetahVelFamilyPlugin } from './half-cheetah/half-cheetah';
import { nonstationaryPlugins } from './nonstationary/nonstationary';
import { sumoEnvPlugin, sumoFamilyPlugin } from './sumo/sumo';

export { ensureMujoco, isMujocoLoaded, releaseUnusedModels, cachedModelCount } from './runtime';
export { MjSim } from './sim';
export { MujocoWorld, MujocoEnvironment, locomotionSpec, type MujocoWorldConfig } from './locomotion';
export * from './families';
export { mjcfDocument, type MjcfParts } from './models/mjcf';
export * from './models/half-cheetah';
export * from './models/legged';
export * from './half-cheetah/half-cheetah';
export * from './ant/ant';
export * from './nonstationary/nonstationary';
export * from './sumo/sumo';
export { SUMO_COLLISION, sumoAgentLayout, sumoXml, type SumoArenaOptions } from './sumo/arena';
export * from './sumo/rules';
export * from './scripted';

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

/**
 * Continuous adaptation (Al-Shedivat et al. 2018): task families and environments
 * nonstationary-ant/bug/spider and sumo (two agents per match). Kept out of `mujocoPlugins`
 * until the simulator's built-in contract test lists them and the wire format carries
 * `TimeSteps.outcomes`; creating worlds or matches needs `await ensureMujoco()`.
 */
export const continuousAdaptationPlugins: readonly PluginManifest[] = [...nonstationaryPlugins, sumoFamilyPlugin, sumoEnvPlugin];
