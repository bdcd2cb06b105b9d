import { invalidArgument, type HostTensor } from '@chameleon/core';
import type { SupervisedBatch as HostBatch } from '@chameleon/envs';
import { Split, type SupervisedBatch, type TaskSpec, type Tensor as TensorWire, type TrajectoryBatch as TrajectoryBatchWire } from '@chameleon/proto';
import { validateBatch, type TrajectoryBatch as RlTrajectoryBatch } from '@chameleon/rl';
import type { SplitName, Task } from '@chameleon/tasks';
import { fromWire, toWire } from '@chameleon/tensor';

const SPLIT_TO_WIRE: Record<SplitName, Split> = { train: Split.SPLIT_TRAIN, validation: Split.SPLIT_VALIDATION, test: Split.SPLIT_TEST };

export const splitToWire = (s: SplitName): Split => SPLIT_TO_WIRE[s];

/** A wire split as a name; `fallback` stands in for SPLIT_UNSPECIFIED when allowed. */
export function splitFromWire(s: Split, field = 'split', fallback?: SplitName): SplitName {
  switch (s) {
    case Split.SPLIT_TRAIN:
      return 'train';
    case Split.SPLIT_VALIDATION:
      return 'validation';
    case Split.SPLIT_TEST:
      return 'test';
    default:
      if (fallback && (s === Split.SPLIT_UNSPECIFIED || s === undefined)) return fallback;
      throw invalidArgument(field, `must be SPLIT_TRAIN, SPLIT_VALIDATION or SPLIT_TEST, got ${s}`);
  }
}

export const taskToWire = (t: Task): TaskSpec => ({
  id: t.id,
  family: t.family,
  familyVersion: t.familyVersion,
  params: { ...t.params },
  seed: t.seed,
  split: splitToWire(t.split),
  index: t.index,
});

/** A wire task, checked for the fields every consumer relies on. */
export function taskFromWire(t: TaskSpec, field: string): Task {
  if (!t.family) throw invalidArgument(`${field}.family`, 'is required');
  if (!t.id) throw invalidArgument(`${field}.id`, 'is required');
  return {
    id: t.id,
    family: t.family,
    familyVersion: t.familyVersion,
    params: (t.params ?? {}) as Record<string, unknown>,
    seed: t.seed,
    split: splitFromWire(t.split, `${field}.split`, 'train'),
    index: t.index,
  };
}

export const batchToWire = (b: HostBatch): SupervisedBatch => ({
  supportInputs: toWire(b.supportX),
  supportTargets: toWire(b.supportY),
  queryInputs: toWire(b.queryX),
  queryTargets: toWire(b.queryY),
});

export function batchFromWire(b: SupervisedBatch | undefined, field = 'batch'): HostBatch {
  if (!b) throw invalidArgument(field, 'is required');
  const p = field ? `${field}.` : '';
  return {
    supportX: fromWire(b.supportInputs, `${p}support_inputs`, ['float32'] as const),
    supportY: fromWire(b.supportTargets, `${p}support_targets`, ['float32', 'int32'] as const) as HostTensor<'float32' | 'int32'>,
    queryX: fromWire(b.queryInputs, `${p}query_inputs`, ['float32'] as const),
    queryY: fromWire(b.queryTargets, `${p}query_targets`, ['float32', 'int32'] as const) as HostTensor<'float32' | 'int32'>,
  };
}

/** "host:port" checked for shape; errors name the flag or field. */
export function parseAddress(address: string, field = 'address'): string {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address.trim());
  if (!m || Number(m[2]) > 65535) throw invalidArgument(field, `must be host:port, got "${address}"`);
  return address.trim();
}

/**
 * A wire trajectory batch as the RL library's host batch, validated (shapes agree, values
 * finite). All episodes of one wire batch belong to one task.
 */
export function trajectoryBatchFromWire(b: TrajectoryBatchWire | undefined, field: string): RlTrajectoryBatch {
  if (!b) throw invalidArgument(field, 'is required');
  const obs = fromWire(b.observations, `${field}.observations`, ['float32'] as const);
  const act = fromWire(b.actions, `${field}.actions`, ['float32'] as const);
  if (obs.shape.length < 3) throw invalidArgument(`${field}.observations`, `must have shape [E, H, obs], got [${obs.shape.join(', ')}]`);
  const [E, H] = obs.shape;
  const obsSize = obs.shape.slice(2).reduce((x, y) => x * y, 1);
  if (act.shape.length < 3 || act.shape[0] !== E || act.shape[1] !== H) throw invalidArgument(`${field}.actions`, `must have shape [${E}, ${H}, act], got [${act.shape.join(', ')}]`);
  const actSize = act.shape.slice(2).reduce((x, y) => x * y, 1);
  const eh = (t: TensorWire | undefined, name: string) => {
    const h = fromWire(t, `${field}.${name}`, ['float32'] as const);
    if (h.shape.length !== 2 || h.shape[0] !== E || h.shape[1] !== H) throw invalidArgument(`${field}.${name}`, `must have shape [${E}, ${H}], got [${h.shape.join(', ')}]`);
    return h.data;
  };
  const finals = b.finalObservations && b.finalObservations.shape.length ? fromWire(b.finalObservations, `${field}.final_observations`, ['float32'] as const).data : new Float32Array(E * obsSize);
  if (finals.length !== E * obsSize) throw invalidArgument(`${field}.final_observations`, `must have shape [${E}, ${obsSize}]`);
  const batch: RlTrajectoryBatch = {
    episodes: E,
    horizon: H,
    observationSize: obsSize,
    actionSize: actSize,
    observations: obs.data,
    actions: act.data,
    rewards: eh(b.rewards, 'rewards'),
    logProbs: eh(b.logProbs, 'log_probs'),
    mask: eh(b.mask, 'mask'),
    discounts: eh(b.discounts, 'discounts'),
    finalObservations: finals,
    taskOf: new Int32Array(E),
  };
  validateBatch(batch, field);
  for (const key of ['observations', 'actions', 'rewards', 'logProbs', 'discounts', 'finalObservations'] as const) {
    const d = batch[key];
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) throw invalidArgument(`${field}.${key}`, `element ${i} is not finite (NaN or Inf)`);
  }
  return batch;
}
