/** Where a task comes from in its distribution. */
export type SplitName = 'train' | 'validation' | 'test';

export const SPLITS: readonly SplitName[] = ['train', 'validation', 'test'];

/**
 * One task T ~ p(T). Plain data: it crosses processes as a TaskSpec and its id is a
 * content hash, so equal ids mean equal tasks wherever they were drawn.
 */
export interface Task {
  readonly id: string;
  readonly family: string;
  readonly familyVersion: string;
  /** Family-specific parameters, JSON-serialisable (e.g. amplitude and phase). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Seed for everything random inside the task. */
  readonly seed: number;
  readonly split: SplitName;
  /** Position in the (split, seed) stream. */
  readonly index: number;
}

/**
 * A task distribution p(T). `draw` must be a pure function of its arguments: the
 * sampler relies on it for reproducibility and exact resumption.
 */
export interface TaskFamily {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly splits: readonly SplitName[];
  /** The parameters of task number `index` of the (split, seed) stream. */
  draw(split: SplitName, seed: number, index: number): Record<string, unknown>;
}
