import { check, stableStringify } from '@chameleon/core';
import type { SupervisedSource } from '@chameleon/envs';
import type { PluginRegistry } from '@chameleon/plugins';
import {
  DataType,
  EnvironmentSimulatorServiceService,
  type ListEnvironmentsRequest,
  type ListEnvironmentsResponse,
  type SampleSupervisedRequest,
  type SampleSupervisedResponse,
} from '@chameleon/proto';
import { optionalFromWire, toWireDType } from '@chameleon/tensor';
import { batchToWire, taskFromWire, unary, type HostedService } from '@chameleon/transport';

/**
 * The environment simulator, supervised part: environment plugins draw support and query
 * sets for task batches.
 */
export function environmentSimulatorService(registry: PluginRegistry): HostedService {
  const sources = new Map<string, SupervisedSource>();
  const sourceFor = (name: string, config: unknown): SupervisedSource => {
    const key = `${name}\u0000${stableStringify(config ?? {})}`;
    let s = sources.get(key);
    if (!s) {
      s = registry.create<SupervisedSource>('environment', name, config ?? {}, 'source_config');
      if (sources.size > 256) sources.clear();
      sources.set(key, s);
    }
    return s;
  };
  return {
    name: 'chameleon.v1.EnvironmentSimulatorService',
    definition: EnvironmentSimulatorServiceService,
    implementation: {
      listEnvironments: unary<ListEnvironmentsRequest, ListEnvironmentsResponse>('EnvironmentSimulator.ListEnvironments', () => ({
        environments: registry.list('environment').map((m) => {
          const s = m.create(m.configSchema.parse({})) as SupervisedSource;
          return {
            name: m.name,
            version: m.version,
            description: m.description,
            inputSpec: { name: 'input', dtype: DataType.DATA_TYPE_FLOAT32, shape: [...s.inputShape], ...(s.inputBounds ?? {}) },
            targetSpec: { name: 'target', dtype: toWireDType(s.targetDType), shape: [...s.targetShape] },
            supervised: true,
          };
        }),
      })),
      sampleSupervised: unary<SampleSupervisedRequest, SampleSupervisedResponse>('EnvironmentSimulator.SampleSupervised', (req) => {
        check(req.tasks.length > 0, 'tasks', 'at least one task is required');
        const tasks = req.tasks.map((t, i) => taskFromWire(t, `tasks[${i}]`));
        const source = sourceFor(tasks[0].family, req.sourceConfig);
        const batch = source.sample(tasks, {
          supportSize: req.supportSize,
          querySize: req.querySize,
          seed: req.seed,
          queryInputs: optionalFromWire(req.queryInputs, 'query_inputs', ['float32'] as const),
        });
        return { batch: batchToWire(batch) };
      }),
    },
  };
}
