import type { HostTensor } from '@chameleon/core';
import type { Task } from '@chameleon/tasks';

/** Support and query sets of a task batch: T tasks, K support and Q query examples. */
export interface SupervisedBatch {
  /** [T, K, ...inputShape] */
  readonly supportX: HostTensor<'float32'>;
  /** [T, K, ...targetShape]: float32 regression targets or int32 labels. */
  readonly supportY: HostTensor<'float32' | 'int32'>;
  /** [T, Q, ...inputShape] */
  readonly queryX: HostTensor<'float32'>;
  /** [T, Q, ...targetShape] */
  readonly queryY: HostTensor<'float32' | 'int32'>;
}

/** What to draw for a task batch. */
export interface SupervisedRequest {
  /** K >= 1. */
  readonly supportSize: number;
  /** Q >= 0; ignored when queryInputs is given. */
  readonly querySize: number;
  /** Data seed; combined with each task's id and seed. */
  readonly seed: number;
  /** Fixed query inputs [Q, ...inputShape] shared by all tasks (e.g. a plotting grid). */
  readonly queryInputs?: HostTensor<'float32'>;
}

/**
 * A supervised environment: given tasks, it draws their support and query sets. Pure:
 * the same tasks and request give the same data.
 */
export interface SupervisedSource {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** Shape of one input example. */
  readonly inputShape: readonly number[];
  /** Shape of one target; [] for class labels. */
  readonly targetShape: readonly number[];
  readonly targetDType: 'float32' | 'int32';
  /** Range of every input element, when bounded (used for plotting grids). */
  readonly inputBounds?: { readonly minimum: number; readonly maximum: number };
  sample(tasks: readonly Task[], request: SupervisedRequest): SupervisedBatch;
}

/** Anything that answers with a batch: a source in process or a remote simulator. */
export type SupervisedDataFn = (tasks: readonly Task[], request: SupervisedRequest) => Promise<SupervisedBatch>;

export const localDataFn =
  (source: SupervisedSource): SupervisedDataFn =>
  async (tasks, request) =>
    source.sample(tasks, request);
