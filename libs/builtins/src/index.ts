import { continuousAdaptationPlugins, fewShotEnvironmentPlugins, mujocoPlugins, navigationEnvPlugin, navigationFamilyPlugin, sinusoidSourcePlugin } from '@chameleon/envs';
import { builtinAlgorithms, familyAlgorithms, fewShotAlgorithms } from '@chameleon/meta';
import { fewShotModelPlugins, mlpPlugin } from '@chameleon/nn';
import { continuousAdaptationRlPlugins, gaussianMlpPolicyPlugin, rlAlgorithms } from '@chameleon/rl';
import { builtinAgents } from '@chameleon/agents';
import { loadPluginModule, PluginRegistry } from '@chameleon/plugins';
import { fewShotTaskPlugins, sinusoidFamilyPlugin } from '@chameleon/tasks';

/** Every built-in plugin, registered exactly like an external one. */
export const builtinPlugins = [sinusoidFamilyPlugin, sinusoidSourcePlugin, navigationFamilyPlugin, navigationEnvPlugin, ...mujocoPlugins, ...continuousAdaptationPlugins, mlpPlugin, gaussianMlpPolicyPlugin, ...builtinAlgorithms, ...familyAlgorithms, ...rlAlgorithms, ...continuousAdaptationRlPlugins, ...builtinAgents, ...fewShotModelPlugins, ...fewShotTaskPlugins, ...fewShotEnvironmentPlugins, ...fewShotAlgorithms];

/**
 * A registry with the built-ins and the given external plugin modules.
 *
 * @example
 *   const registry = createRegistry(['./my-plugins/index.ts']);
 *   const family = registry.create('task-family', 'sinusoid', {});
 */
export function createRegistry(externalModules: readonly string[] = []): PluginRegistry {
  const registry = new PluginRegistry().registerAll(builtinPlugins);
  for (const m of externalModules) loadPluginModule(registry, m);
  return registry;
}
