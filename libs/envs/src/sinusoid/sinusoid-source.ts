import { z } from 'zod';
import { Rng, float32, invalidArgument, type HostTensor } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { Task } from '@chameleon/tasks';
import type { SupervisedBatch, SupervisedRequest, SupervisedSource } from '../supervised/source';
import { validateSupervisedRequest } from '../supervised/validate';

export const sinusoidSourceConfig = z
  .object({
    /** Inputs are drawn uniformly from this range. Default [-5, 5] (Finn et al. 2017). */
    inputRange: z
      .tuple([z.number(), z.number()])
      .refine(([a, b]) => a < b, 'range must be [low, high] with low < high')
      .default([-5, 5]),
    /** Standard deviation of Gaussian noise added to targets. Default 0 (noise-free, as in the paper). */
    noiseStd: z.number().min(0).default(0),
  })
  .strict();

export type SinusoidSourceConfig = z.infer<typeof sinusoidSourceConfig>;

/** Draws (x, A sin(x - phase)) pairs for sinusoid tasks. */
export class SinusoidSource implements SupervisedSource {
  readonly name = 'sinusoid';
  readonly version = '1.0.0';
  readonly description = 'x ~ U[-5, 5], y = A sin(x - phase)';
  readonly inputShape = [1];
  readonly targetShape = [1];
  readonly targetDType = 'float32' as const;

  constructor(readonly config: SinusoidSourceConfig = sinusoidSourceConfig.parse({})) {}

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
      const { amplitude, phase } = sinusoidParams(task, t);
      const support = Rng.fromKeys(task.id, task.seed, req.seed, 'support');
      const query = Rng.fromKeys(task.id, task.seed, req.seed, 'query');
      const noise = Rng.fromKeys(task.id, task.seed, req.seed, 'noise');
      const f = (x: number) => amplitude * Math.sin(x - phase) + (this.config.noiseStd > 0 ? noise.normal(0, this.config.noiseStd) : 0);
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
    return {
      supportX: float32(shape(K), sx),
      supportY: float32(shape(K), sy) as HostTensor<'float32'>,
      queryX: float32(shape(Q), qx),
      queryY: float32(shape(Q), qy) as HostTensor<'float32'>,
    };
  }
}

function sinusoidParams(task: Task, i: number): { amplitude: number; phase: number } {
  const { amplitude, phase } = task.params as { amplitude?: unknown; phase?: unknown };
  if (typeof amplitude !== 'number' || !Number.isFinite(amplitude)) {
    throw invalidArgument(`tasks[${i}].params.amplitude`, `must be a finite number, got ${JSON.stringify(amplitude)}`);
  }
  if (typeof phase !== 'number' || !Number.isFinite(phase)) {
    throw invalidArgument(`tasks[${i}].params.phase`, `must be a finite number, got ${JSON.stringify(phase)}`);
  }
  return { amplitude, phase };
}

export const sinusoidSourcePlugin: PluginManifest<'environment', SinusoidSourceConfig, SupervisedSource> = {
  kind: 'environment',
  name: 'sinusoid',
  version: '1.0.0',
  description: 'Supervised data for sinusoid tasks: x ~ U[-5, 5], y = A sin(x - phase)',
  configSchema: sinusoidSourceConfig,
  create: (config) => new SinusoidSource(config),
};
