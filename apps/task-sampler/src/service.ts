import { invalidArgument, resourceExhausted, stableStringify } from '@chameleon/core';
import type { PluginRegistry } from '@chameleon/plugins';
import {
  Split,
  TaskSamplerServiceService,
  type ListFamiliesRequest,
  type ListFamiliesResponse,
  type SampleTasksRequest,
  type SampleTasksResponse,
  type SampleSequencesRequest,
  type SampleSequencesResponse,
  type SampleTaskPairsRequest,
  type SampleTaskPairsResponse,
} from '@chameleon/proto';
import { checkPairsRequest, checkSampleRequest, isSequenceFamily, samplePairs, sampleTasks, sequenceTasks, type TaskFamily } from '@chameleon/tasks';
import { splitFromWire, splitToWire, taskToWire, unary, type HostedService } from '@chameleon/transport';
import { SLICE, sliced } from './sliced';

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
            sequenceLength: isSequenceFamily(f) ? f.sequenceLength : 0,
          };
        }),
      })),
      sampleTasks: unary<SampleTasksRequest, SampleTasksResponse>('TaskSampler.SampleTasks', async (req) => {
        if (!req.family) throw invalidArgument('family', 'is required');
        const family = familyFor(req.family, req.familyConfig);
        const split = splitFromWire(req.split ?? Split.SPLIT_UNSPECIFIED, 'split');
        const request = { split, seed: req.seed, start: req.startIndex, count: req.count };
        checkSampleRequest(family, request);
        const tasks = await sliced(request.start, request.count, SLICE, (start, count) => sampleTasks(family, { ...request, start, count }).map(taskToWire));
        return { tasks };
      }),
      sampleSequences: unary<SampleSequencesRequest, SampleSequencesResponse>('TaskSampler.SampleSequences', async (req) => {
        if (!req.family) throw invalidArgument('family', 'is required');
        const family = familyFor(req.family, req.familyConfig);
        const split = splitFromWire(req.split ?? Split.SPLIT_UNSPECIFIED, 'split');
        if (!Number.isInteger(req.count) || req.count < 1) throw invalidArgument('count', `must be >= 1, got ${req.count}`);
        const length = req.length || (isSequenceFamily(family) ? family.sequenceLength : 0);
        if (req.count * Math.max(1, length) > 100_000) throw resourceExhausted('count', `at most 100000 tasks per request, got ${req.count} x ${length}`);
        const perSlice = Math.max(1, Math.floor(SLICE / Math.max(1, length)));
        const sequences = await sliced(0, req.count, perSlice, (first, n) =>
          Array.from({ length: n }, (_, k) => ({
            sequence: req.firstSequence + first + k,
            tasks: sequenceTasks(family, split, req.seed, req.firstSequence + first + k, req.length || undefined).map(taskToWire),
          })),
        );
        return { sequences };
      }),
      sampleTaskPairs: unary<SampleTaskPairsRequest, SampleTaskPairsResponse>('TaskSampler.SampleTaskPairs', async (req) => {
        if (!req.family) throw invalidArgument('family', 'is required');
        const family = familyFor(req.family, req.familyConfig);
        const split = splitFromWire(req.split ?? Split.SPLIT_UNSPECIFIED, 'split');
        const request = { split, seed: req.seed, start: req.startIndex, count: req.count };
        checkPairsRequest(family, request);
        // Two tasks per pair.
        const pairs = await sliced(request.start, request.count, SLICE / 2, (start, count) =>
          samplePairs(family, { ...request, start, count }).map(([current, next]) => ({ current: taskToWire(current), next: taskToWire(next) })),
        );
        return { pairs };
      }),
    },
  };
}
