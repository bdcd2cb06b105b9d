import { invalidArgument, type Rng } from '@chameleon/core';
import type { Task } from '@chameleon/tasks';
import { sizeOfShape, type EnvSpec, type SequentialEnvironment, type World } from './environment';

/** Bookkeeping keys of sequence families: not properties of the task's dynamics. */
const NOT_FEATURES = new Set(['sequence', 'position', 'length']);

/**
 * A task's numeric parameters, flattened in sorted key order (arrays element by element),
 * without sequence bookkeeping (sequence number, position, length).
 */
export function taskFeatures(task: Task): number[] {
  const out: number[] = [];
  for (const k of Object.keys(task.params).sort()) {
    if (NOT_FEATURES.has(k)) continue;
    const v = task.params[k];
    if (typeof v === 'number') out.push(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) out.push(...(v as number[]));
  }
  return out;
}

/**
 * Wraps an environment so every observation ends with the task's numeric parameters: the
 * "oracle" baseline of the meta-RL papers sees the task instead of inferring it.
 */
export class TaskObservingEnvironment implements SequentialEnvironment {
  readonly kind = 'sequential' as const;
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly family: string;
  readonly spec: EnvSpec;

  constructor(private readonly inner: SequentialEnvironment, readonly featureCount: number) {
    if (inner.spec.observationShape.length !== 1) throw invalidArgument('observe_task', `needs flat observations; "${inner.name}" has shape [${inner.spec.observationShape.join(', ')}]`);
    this.name = `${inner.name}+task`;
    this.version = inner.version;
    this.description = `${inner.description} (observations end with the task parameters)`;
    this.family = inner.family;
    this.spec = { ...inner.spec, observationShape: [inner.spec.observationShape[0] + featureCount] };
  }

  ready(): Promise<void> {
    return this.inner.ready?.() ?? Promise.resolve();
  }

  validateTask(task: Task, field: string): void {
    this.inner.validateTask?.(task, field);
    const n = taskFeatures(task).length;
    if (n !== this.featureCount) throw invalidArgument(`${field}.params`, `has ${n} numeric parameters; this oracle expects ${this.featureCount}`);
  }

  createWorld(): World {
    const world = this.inner.createWorld();
    const base = sizeOfShape(this.inner.spec.observationShape);
    let features: number[] = [];
    return {
      reset(task: Task, rng: Rng, obs: Float32Array) {
        features = taskFeatures(task);
        world.reset(task, rng, obs.subarray(0, base));
        obs.set(features, base);
      },
      step(action: Float32Array, obs: Float32Array) {
        const r = world.step(action, obs.subarray(0, base));
        obs.set(features, base);
        return r;
      },
      close: () => world.close?.(),
    };
  }
}
