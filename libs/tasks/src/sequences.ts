import { invalidArgument, resourceExhausted } from '@chameleon/core';
import { MAX_TASKS_PER_REQUEST, sampleTasks, type SampleRequest } from './sampler';
import type { SplitName, Task, TaskFamily } from './task';

/**
 * Task sequences T_1, T_2, ..., T_L for continuous adaptation (Al-Shedivat et al. 2018): a
 * nonstationary environment seen as a chain of stationary tasks, trained on consecutive pairs
 * (T_i, T_{i+1}) and evaluated along whole sequences.
 *
 * A sequence family is an ordinary {@link TaskFamily} whose (split, seed) stream is cut into
 * sequences of `sequenceLength` tasks: task `index` is T_{i+1} (position i) of sequence
 * k = floor(index / L), i = index mod L, and its params carry `{ sequence: k, position: i,
 * length: L }` besides its own. So the existing sampler draws sequences, ids stay content
 * hashes, and a sequence is just a window of the stream.
 */
export interface SequenceFamily extends TaskFamily {
  /** L: tasks per sequence (positions 0 .. L - 1). */
  readonly sequenceLength: number;
}

/** Where a task sits in its sequence. */
export interface SequenceSlot {
  /** k: which sequence of the (split, seed) stream. */
  readonly sequence: number;
  /** i: 0-based position in the sequence (T_{i+1}). */
  readonly position: number;
  /** L: tasks per sequence. */
  readonly length: number;
}

export const isSequenceFamily = (family: TaskFamily): family is SequenceFamily => {
  const L = (family as Partial<SequenceFamily>).sequenceLength;
  return typeof L === 'number' && Number.isInteger(L) && L >= 1;
};

/** The slot of stream index `index` in sequences of length L (what a family's draw puts in params). */
export function sequenceSlot(sequenceLength: number, index: number): SequenceSlot {
  return { sequence: Math.floor(index / sequenceLength), position: index % sequenceLength, length: sequenceLength };
}

/** Reads `{ sequence, position, length }` from a task's params; INVALID_ARGUMENT names the field. */
export function readSequenceSlot(task: Task, field = 'task'): SequenceSlot {
  const p = task.params;
  const get = (name: keyof SequenceSlot, min: number) => {
    const v = p[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw invalidArgument(`${field}.params.${name}`, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const slot = { sequence: get('sequence', 0), position: get('position', 0), length: get('length', 1) };
  if (slot.position >= slot.length) throw invalidArgument(`${field}.params.position`, `must be below length ${slot.length}, got ${slot.position}`);
  return slot;
}

function asSequenceFamily(family: TaskFamily): SequenceFamily {
  if (!isSequenceFamily(family)) throw invalidArgument('family', `"${family.name}" is not a sequence family (it has no integer sequenceLength >= 1)`);
  return family;
}

function checkSequenceIndex(family: SequenceFamily, sequenceIndex: number): void {
  if (!Number.isSafeInteger(sequenceIndex) || sequenceIndex < 0 || !Number.isSafeInteger(sequenceIndex * family.sequenceLength)) {
    throw invalidArgument('sequence_index', `must be a non-negative integer with sequence_index x ${family.sequenceLength} a safe integer, got ${sequenceIndex}`);
  }
}

/**
 * T_1 .. T_length of sequence `sequenceIndex` of the (split, seed) stream: tasks
 * k L .. k L + length - 1 of {@link sampleTasks}. `length` defaults to the family's L and may be
 * shorter (a prefix), never longer.
 *
 * @example
 *   const [t1, t2, t3] = sequenceTasks(nonstationaryAnt, 'train', 1, 0, 3);
 */
export function sequenceTasks(family: TaskFamily, split: SplitName, seed: number, sequenceIndex: number, length?: number): Task[] {
  const f = asSequenceFamily(family);
  checkSequenceIndex(f, sequenceIndex);
  const n = length ?? f.sequenceLength;
  if (!Number.isInteger(n) || n < 1 || n > f.sequenceLength) throw invalidArgument('length', `must be an integer in [1, ${f.sequenceLength}] (the family's sequence length), got ${length}`);
  return sampleTasks(f, { split, seed, start: sequenceIndex * f.sequenceLength, count: n });
}

/** The consecutive pairs (T_1, T_2), ..., (T_{length-1}, T_length) of one sequence. */
export function taskPairs(family: TaskFamily, split: SplitName, seed: number, sequenceIndex: number, length?: number): Array<[Task, Task]> {
  const tasks = sequenceTasks(family, split, seed, sequenceIndex, length);
  return tasks.slice(1).map((next, i) => [tasks[i], next]);
}

/** The checks {@link samplePairs} makes before drawing; returns the family as a sequence family. */
export function checkPairsRequest(family: TaskFamily, request: SampleRequest) {
  const f = asSequenceFamily(family);
  if (f.sequenceLength < 2) throw invalidArgument('family', `"${f.name}" has sequences of length 1: no consecutive pairs`);
  const { start, count } = request;
  if (!Number.isInteger(count) || count < 1) throw invalidArgument('count', `must be an integer >= 1, got ${count}`);
  if (2 * count > MAX_TASKS_PER_REQUEST) throw resourceExhausted('count', `at most ${MAX_TASKS_PER_REQUEST / 2} pairs per request, got ${count}`);
  if (!Number.isSafeInteger(start) || start < 0) throw invalidArgument('start_index', `must be a non-negative integer, got ${start}`);
  return f;
}

/**
 * A window of the stream of all consecutive pairs of the (split, seed) stream: pair p is
 * (T_{i+1}, T_{i+2}) of sequence floor(p / (L - 1)) with i = p mod (L - 1). What Algorithm 1
 * of the paper samples batches from; deterministic and windowable like {@link sampleTasks}.
 * Needs L >= 2.
 */
export function samplePairs(family: TaskFamily, request: SampleRequest): Array<[Task, Task]> {
  const f = checkPairsRequest(family, request);
  const per = f.sequenceLength - 1;
  const { split, seed, start, count } = request;
  const out: Array<[Task, Task]> = [];
  // Draw each sequence once, however many of its pairs the window holds.
  for (let p = start; p < start + count; ) {
    const k = Math.floor(p / per);
    const tasks = sequenceTasks(f, split, seed, k);
    for (let i = p % per; i < per && p < start + count; i++, p++) out.push([tasks[i], tasks[i + 1]]);
  }
  return out;
}
