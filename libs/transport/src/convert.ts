import { invalidArgument, type HostTensor } from '@chameleon/core';
import type { SupervisedBatch as HostBatch } from '@chameleon/envs';
import { Split, type SupervisedBatch, type TaskSpec } from '@chameleon/proto';
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
