import { invalidArgument, stableStringify } from '@chameleon/core';
import type { PluginRegistry } from '@chameleon/plugins';
import {
  Split,
  TaskSamplerServiceService,
  type ListFamiliesRequest,
  type ListFamiliesResponse,
  type SampleTasksRequest,
  type SampleTasksResponse,
} from '@chameleon/proto';
import { sampleTasks, type TaskFamily } from '@chameleon/tasks';
import { splitFromWire, splitToWire, taskToWire, unary, type HostedService } from '@chameleon/transport';

/**
 * The task sampler: seeded task streams from task-family plugins. Stateless apart from a
 * cache of configured families.
 */
export function taskSamplerService(registry: PluginRegistry): HostedService {
  const families = new Map<string, TaskFamily>();
  const familyFor = (name: string, config: unknown): TaskFamily => {
    const key = `${name}\u0000${stableStringify(config ?? {})}`;
    let f = families.get(key);
    if (!f) {
      f = registry.create<TaskFamily>('task-family', name, config ?? {}, 'family_config');
      if (families.size > 256) families.clear();
      families.set(key, f);
    }
    return f;
  };
  return {
    name: 'chameleon.v1.TaskSamplerService',
    definition: TaskSamplerServiceService,
    implementation: {
      listFamilies: unary<ListFamiliesRequest, ListFamiliesResponse>('TaskSampler.ListFamilies', () => ({
        families: registry.list('task-family').map((m) => {
          const f = m.create(m.configSchema.parse({})) as TaskFamily;
          return {
            name: m.name,
            version: m.version,
            description: m.description,
            defaultConfig: m.configSchema.parse({}) as Record<string, unknown>,
            splits: f.splits.map(splitToWire),
          };
        }),
      })),
      sampleTasks: unary<SampleTasksRequest, SampleTasksResponse>('TaskSampler.SampleTasks', (req) => {
        if (!req.family) throw invalidArgument('family', 'is required');
        const family = familyFor(req.family, req.familyConfig);
        const split = splitFromWire(req.split ?? Split.SPLIT_UNSPECIFIED, 'split');
        const tasks = sampleTasks(family, { split, seed: req.seed, start: req.startIndex, count: req.count });
        return { tasks: tasks.map(taskToWire) };
      }),
    },
  };
}
