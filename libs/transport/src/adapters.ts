import type * as grpc from '@grpc/grpc-js';
import { invalidArgument } from '@chameleon/core';
import type { EnvSpec, SupervisedDataFn, TimeSteps, WorldsFactory } from '@chameleon/envs';
import type { CreateWorldsResponse, TimeStepBatch } from '@chameleon/proto';
import type { TaskSource } from '@chameleon/tasks';
import { batchFromWire, splitToWire, taskFromWire, taskToWire } from './convert';
import { unaryCall } from './client';
import type { Peers } from './peers';
import { fromWire, toWire } from '@chameleon/tensor';

/**
 * A TaskSource backed by a remote task sampler: the same contract suite that checks an
 * in-process family checks a sampler written in any language.
 */
export function remoteTaskSource(peers: Peers, family: string, familyConfig: Record<string, unknown> = {}): TaskSource {
  return async (req) => {
    const specs = await peers.sampleTasks({ family, familyConfig, split: splitToWire(req.split), seed: req.seed, startIndex: req.start, count: req.count });
    return specs.map((t, i) => taskFromWire(t, `tasks[${i}]`));
  };
}

/** A SupervisedDataFn backed by remote environment simulators. */
export function remoteDataFn(peers: Peers, sourceConfig: Record<string, unknown> = {}): SupervisedDataFn {
  return async (tasks, req) => {
    const batch = await peers.sampleSupervised({
      tasks: tasks.map(taskToWire),
      supportSize: req.supportSize,
      querySize: req.querySize,
      seed: req.seed,
      queryInputs: req.queryInputs ? toWire(req.queryInputs) : undefined,
      sourceConfig,
    });
    return batchFromWire(batch, '');
  };
}


/** Host time steps from the wire. */
export function timeStepsFromWire(b: TimeStepBatch | undefined): TimeSteps {
  if (!b) throw invalidArgument('time_steps', 'is required');
  return {
    stepTypes: fromWire(b.stepTypes, 'time_steps.step_types', ['uint8'] as const).data,
    rewards: fromWire(b.rewards, 'time_steps.rewards', ['float32'] as const).data,
    discounts: fromWire(b.discounts, 'time_steps.discounts', ['float32'] as const).data,
    observations: fromWire(b.observations, 'time_steps.observations', ['float32'] as const).data,
    outcomes: b.outcomes && b.outcomes.shape.length ? Int8Array.from(fromWire(b.outcomes, 'time_steps.outcomes', ['int32'] as const).data) : undefined,
  };
}

/** The environment spec a CreateWorlds response describes. */
export function envSpecFromWire(r: CreateWorldsResponse): EnvSpec {
  const a = r.actionSpec;
  const n = (a?.shape ?? []).reduce((x, y) => x * y, 1);
  const bound = (el: number[] | undefined, scalar: number | undefined, fallback: number) =>
    el && el.length === n ? el : Array.from({ length: n }, () => scalar ?? fallback);
  return {
    observationShape: r.observationSpec?.shape ?? [],
    actionShape: a?.shape ?? [],
    actionMinimum: bound(a?.elementMinimum, a?.minimum, -Infinity),
    actionMaximum: bound(a?.elementMaximum, a?.maximum, Infinity),
    maxEpisodeSteps: r.maxEpisodeSteps,
  };
}

/**
 * Worlds hosted by a remote simulator (CreateWorlds / ResetWorlds / StepWorlds / CloseWorlds):
 * the environment contract suite runs through this exactly as against a local VectorEnv.
 */
export function remoteWorlds(peers: Peers, environment: string, config: Record<string, unknown> = {}): WorldsFactory {
  return async (tasks, numWorlds, seed) => {
    const sim = peers.simulators[0];
    const call = <Q, R>(m: (req: Q, md: grpc.Metadata, o: Partial<grpc.CallOptions>, cb: (e: grpc.ServiceError | null, r: R) => void) => grpc.ClientUnaryCall, req: Q, label: string) =>
      unaryCall(sim, m, req, `environment-simulator ${label}`, { retries: 0 });
    const created = await call(sim.createWorlds, { environment, config, numWorlds, tasks: tasks.map(taskToWire), seed }, 'CreateWorlds');
    const spec = envSpecFromWire(created);
    const id = created.worldSetId;
    return {
      spec,
      numWorlds,
      reset: async () => timeStepsFromWire((await call(sim.resetWorlds, { worldSetId: id, tasks: [] }, 'ResetWorlds')).timeSteps),
      step: async (actions) => {
        const wire = toWire({ dtype: 'float32', shape: [numWorlds, ...spec.actionShape], data: actions });
        // The remote checks the shape; send the raw length so a wrong size reaches it intact.
        wire.shape = actions.length === numWorlds * spec.actionShape.reduce((x, y) => x * y, 1) ? wire.shape : [actions.length];
        return timeStepsFromWire((await call(sim.stepWorlds, { worldSetId: id, actions: wire }, 'StepWorlds')).timeSteps);
      },
      close: async () => {
        await call(sim.closeWorlds, { worldSetId: id }, 'CloseWorlds');
      },
    };
  };
}
