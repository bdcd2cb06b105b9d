import { z } from 'zod';
import { Rng, float32, invalidArgument } from '@chameleon/core';
import { validateSupervisedRequest, type SupervisedBatch, type SupervisedRequest, type SupervisedSource } from '@chameleon/envs';
import type { PluginManifest } from '@chameleon/plugins';
import type { Task } from '@chameleon/tasks';
import type { LinearRegressionParams } from './family';

/** Bump it whenever `sample` changes the data it draws. */
export const SOURCE_VERSION = '1.0.0';

export const linearRegressionSourceConfig = z
  .object({
    /** Inputs are drawn uniformly from this range. Default [-3, 3]. */
    inputRange: z
      .tuple([z.number(), z.number()])
      .refine(([a, b]) => a < b, 'range must be [low, high] with low < high')
      .default([-3, 3]),
    /** Standard deviation of Gaussian noise added to the targets. Default 0 (noise-free). */
    noiseStd: z.number().min(0).default(0),
  })
  .strict();

export type LinearRegressionSourceConfig = z.infer<typeof linearRegressionSourceConfig>;

/**
 * Supervised data for linear-regression tasks: x ~ U[-3, 3], y = w x + b. Pure: each
 * task's examples depend only on (task id, task seed, request seed).
 */
export class LinearRegressionSource implements SupervisedSource {
  readonly name = 'linear-regression';
  readonly version = SOURCE_VERSION;
  readonly description = 'x ~ U[-3, 3], y = w x + b';
  readonly inputShape = [1];
  readonly targetShape = [1];
  readonly targetDType = 'float32' as const;

  constructor(readonly config: LinearRegressionSourceConfig = linearRegressionSourceConfig.parse({})) {}

  get inputBounds() {
    return { minimum: this.config.inputRange[0], maximum: this.config.inputRange[1] };
  }

  sample(tasks: readonly Task[], req: SupervisedRequest): SupervisedBatch {
    validateSupervisedRequest(this, tasks, req);
    const T = tasks.length;
    const K = req.supportSize;
    const Q = req.queryInputs ? req.queryInputs.shape[0] : req.querySize;
    const sx = new Float32Array(T * K);
    const sy = new Float32Array(T * K);
    const qx = new Float32Array(T * Q);
    const qy = new Float32Array(T * Q);
    const [lo, hi] = this.config.inputRange;
    tasks.forEach((task, t) => {
      const { slope, intercept } = lineOf(task, t);
      // Separate streams, so asking for more queries never changes the support set.
      const support = Rng.fromKeys(task.id, task.seed, req.seed, 'support');
      const query = Rng.fromKeys(task.id, task.seed, req.seed, 'query');
      const noise = Rng.fromKeys(task.id, task.seed, req.seed, 'noise');
      const f = (x: number) => slope * x + intercept + (this.config.noiseStd > 0 ? noise.normal(0, this.config.noiseStd) : 0);
      for (let k = 0; k < K; k++) {
        const x = support.uniform(lo, hi);
        sx[t * K + k] = x;
        sy[t * K + k] = f(x);
      }
      for (let q = 0; q < Q; q++) {
        const x = req.queryInputs ? req.queryInputs.data[q] : query.uniform(lo, hi);
        qx[t * Q + q] = x;
        qy[t * Q + q] = f(x);
      }
    });
    const shape = (n: number): number[] => [T, n, 1];
    return { supportX: float32(shape(K), sx), supportY: float32(shape(K), sy), queryX: float32(shape(Q), qx), queryY: float32(shape(Q), qy) };
  }
}

/** The line of a task, checked: a bad task names the field at fault. */
function lineOf(task: Task, i: number): LinearRegressionParams {
  const { slope, intercept } = task.params as { slope?: unknown; intercept?: unknown };
  for (const [field, value] of [['slope', slope], ['intercept', intercept]] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw invalidArgument(`tasks[${i}].params.${field}`, `must be a finite number, got ${JSON.stringify(value)}`);
    }
  }
  return { slope: slope as number, intercept: intercept as number };
}

export const linearRegressionSourcePlugin: PluginManifest<'environment', LinearRegressionSourceConfig, SupervisedSource> = {
  kind: 'environment',
  name: 'linear-regression',
  version: SOURCE_VERSION,
  description: 'Supervised data for linear-regression tasks: x ~ U[-3, 3], y = w x + b',
  configSchema: linearRegressionSourceConfig,
  create: (config) => new LinearRegressionSource(config),
};
