import type { SupervisedDataFn } from '@chameleon/envs';
import type { TaskSource } from '@chameleon/tasks';
import { batchFromWire, splitToWire, taskFromWire, taskToWire } from './convert';
import type { Peers } from './peers';
import { toWire } from '@chameleon/tensor';

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

