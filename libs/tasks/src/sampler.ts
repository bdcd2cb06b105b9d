import { Rng, contentHash, invalidArgument, resourceExhausted } from '@chameleon/core';
import type { SplitName, Task, TaskFamily } from './task';

/** Largest number of tasks one request may ask for. */
export const MAX_TASKS_PER_REQUEST = 100_000;

/** What to sample: tasks start .. start + count - 1 of the (split, seed) stream. */
export interface SampleRequest {
  readonly split: SplitName;
  readonly seed: number;
  readonly start: number;
  readonly count: number;
}

/** Anything that answers a SampleRequest: a family in process, or a remote sampler. */
export type TaskSource = (request: SampleRequest) => Promise<Task[]>;

/**
 * Draws tasks from a family. Deterministic: task `i` depends only on (family, split,
 * seed, i), so any window of the stream can be drawn in any order.
 *
 * @example
 *   const tasks = sampleTasks(sinusoid, { split: 'train', seed: 1, start: 0, count: 25 });
 */
export function sampleTasks(family: TaskFamily, request: SampleRequest): Task[] {
  checkSampleRequest(family, request);
  const { split, seed, start, count } = request;
  const tasks: Task[] = [];
  for (let index = start; index < start + count; index++) {
    const params = family.draw(split, seed, index);
    const taskSeed = Rng.fromKeys(family.name, split, seed, index, 'task-seed').seed();
    tasks.push({
      id: taskId(family.name, family.version, params, taskSeed),
      family: family.name,
      familyVersion: family.version,
      params,
      seed: taskSeed,
      split,
      index,
    });
  }
  return tasks;
}

/**
 * The checks {@link sampleTasks} makes before drawing (split, count within
 * [1, MAX_TASKS_PER_REQUEST], start, seed): for callers that draw a large request in slices.
 */
export function checkSampleRequest(family: TaskFamily, request: SampleRequest): void {
  const { split, seed, start, count } = request;
  if (!family.splits.includes(split)) {
    throw invalidArgument('split', `family "${family.name}" has splits ${family.splits.join(', ')}, not "${split}"`);
  }
  if (!Number.isInteger(count) || count < 1) throw invalidArgument('count', `must be an integer >= 1, got ${count}`);
  if (count > MAX_TASKS_PER_REQUEST) throw resourceExhausted('count', `at most ${MAX_TASKS_PER_REQUEST} tasks per request, got ${count}`);
  if (!Number.isSafeInteger(start) || start < 0) throw invalidArgument('start_index', `must be a non-negative integer, got ${start}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw invalidArgument('seed', `must be a uint32, got ${seed}`);
}

/** The stable content hash that identifies a task. */
export function taskId(family: string, version: string, params: unknown, seed: number): string {
  return contentHash({ family, version, params, seed });
}

/** A TaskSource backed by an in-process family. */
export const localTaskSource =
  (family: TaskFamily): TaskSource =>
  async (request) =>
    sampleTasks(family, request);
