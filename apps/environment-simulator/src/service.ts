import { check, invalidArgument, stableStringify } from '@chameleon/core';
import { agentsPerMatch, isSequential, type SupervisedSource } from '@chameleon/envs';
import type { PluginRegistry } from '@chameleon/plugins';
import {
  DataType,
  EnvironmentSimulatorServiceService,
  type CloseWorldsRequest,
  type CloseWorldsResponse,
  type CreateWorldsRequest,
  type CreateWorldsResponse,
  type EnvironmentInfo,
  type ListEnvironmentsRequest,
  type ListEnvironmentsResponse,
  type ResetWorldsRequest,
  type ResetWorldsResponse,
  type SampleSupervisedRequest,
  type SampleSupervisedResponse,
  type StepWorldsRequest,
  type StreamRolloutsRequest,
  type StreamRolloutsResponse,
  type StepWorldsResponse,
} from '@chameleon/proto';
import { optionalFromWire, toWireDType } from '@chameleon/tensor';
import { batchToWire, serverStream, taskFromWire, unary, type HostedService, type StreamWriter } from '@chameleon/transport';
import { Policies, streamRollouts } from './stream-rollouts';
import { actionSpec, SequentialEnvironments, WorldSets, DEFAULT_WORLD_SET_OPTIONS, type WorldSetOptions } from './worlds';

const f32 = DataType.DATA_TYPE_FLOAT32;

/** What ListEnvironments says of one environment plugin (supervised or sequential). */
function describeEnvironment(name: string, version: string, description: string, env: unknown): EnvironmentInfo {
  const base = { name, version, description, inputSpec: undefined, targetSpec: undefined, observationSpec: undefined, actionSpec: undefined, maxEpisodeSteps: 0, agentsPerMatch: 0 };
  if (isSequential(env)) {
    const s = env.spec;
    return {
      ...base,
      supervised: false,
      observationSpec: { name: 'observation', dtype: f32, shape: [...s.observationShape], elementMinimum: [], elementMaximum: [] },
      actionSpec: actionSpec(s),
      maxEpisodeSteps: s.maxEpisodeSteps,
      agentsPerMatch: agentsPerMatch(env),
    };
  }
  const src = env as SupervisedSource;
  return {
    ...base,
    supervised: true,
    inputSpec: { name: 'input', dtype: f32, shape: [...src.inputShape], ...(src.inputBounds ?? {}), elementMinimum: [], elementMaximum: [] },
    targetSpec: { name: 'target', dtype: toWireDType(src.targetDType), shape: [...src.targetShape], elementMinimum: [], elementMaximum: [] },
  };
}

let chunksSent = 0;

/** Counts streamed chunks and kills the process at the configured fault point (tests only). */
function withFaults<T>(out: StreamWriter<T>, faults: SimulatorFaults | undefined): StreamWriter<T> {
  const limit = faults?.exitAfterChunks;
  if (!limit) return out;
  return {
    ctx: out.ctx,
    async write(m) {
      await out.write(m);
      if (++chunksSent >= limit) {
        process.stderr.write(`fault injection: exiting after ${chunksSent} chunks\n`);
        process.kill(process.pid, 'SIGKILL');
      }
    },
  };
}

/**
 * The environment simulator, supervised part: environment plugins draw support and query
 * sets for task batches.
 */
/** Fault injection for resilience tests: the process dies hard after streaming this many chunks. */
export interface SimulatorFaults {
  readonly exitAfterChunks?: number;
}

export function environmentSimulatorService(registry: PluginRegistry, options: { worldSets?: WorldSetOptions; faults?: SimulatorFaults } = {}): HostedService {
  const sequential = new SequentialEnvironments(registry);
  const worlds = new WorldSets(sequential, options.worldSets ?? DEFAULT_WORLD_SET_OPTIONS);
  const policies = new Policies(registry);
  const sources = new Map<string, SupervisedSource>();
  const sourceFor = (name: string, config: unknown): SupervisedSource => {
    const key = `${name}\u0000${stableStringify(config ?? {})}`;
    let s = sources.get(key);
    if (!s) {
      const made = registry.create<unknown>('environment', name, config ?? {}, 'source_config');
      if (isSequential(made)) throw invalidArgument('tasks', `"${name}" is a sequential environment; use CreateWorlds or StreamRollouts`);
      s = made as SupervisedSource;
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
        environments: registry.list('environment').map((m) => describeEnvironment(m.name, m.version, m.description, m.create(m.configSchema.parse({})))),
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
      createWorlds: unary<CreateWorldsRequest, CreateWorldsResponse>('EnvironmentSimulator.CreateWorlds', (req) => worlds.create(req)),
      resetWorlds: unary<ResetWorldsRequest, ResetWorldsResponse>('EnvironmentSimulator.ResetWorlds', (req) => worlds.reset(req)),
      stepWorlds: unary<StepWorldsRequest, StepWorldsResponse>('EnvironmentSimulator.StepWorlds', (req) => worlds.step(req)),
      closeWorlds: unary<CloseWorldsRequest, CloseWorldsResponse>('EnvironmentSimulator.CloseWorlds', (req) => worlds.close(req)),
      streamRollouts: serverStream<StreamRolloutsRequest, StreamRolloutsResponse>('EnvironmentSimulator.StreamRollouts', (req, out) => streamRollouts(req, withFaults(out, options.faults), sequential, policies)),
    },
    stop: () => worlds.closeAll(),
  };
}
