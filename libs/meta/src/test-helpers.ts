import { SinusoidSource } from '@chameleon/envs';
import { tf, type FunctionalModel, type Tensor } from '@chameleon/nn';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import type { MetaBatch } from './types';

/** A sinusoid task batch on the backend, for tests and benchmarks. */
export function sinusoidBatch(tasks: number, support: number, query: number, seed = 1, start = 0): MetaBatch {
  const ts = sampleTasks(new SinusoidFamily(), { split: 'train', seed, start, count: tasks });
  const b = new SinusoidSource().sample(ts, { supportSize: support, querySize: query, seed });
  const t = (h: { shape: readonly number[]; data: Float32Array | Int32Array }) => tf.tensor(h.data as Float32Array, h.shape as number[]);
  return { supportX: t(b.supportX), supportY: t(b.supportY), queryX: t(b.queryX), queryY: t(b.queryY) };
}

export const paramsOf = (model: FunctionalModel, values: Float32Array[]): Tensor[] =>
  values.map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));

/** Random direction over a parameter list with unit global norm (seeded). */
export function randomDirection(model: FunctionalModel, seed: number): Tensor[] {
  const parts = model.spec.map((p, i) => tf.randomNormal(p.shape as number[], 0, 1, 'float32', seed * 100 + i));
  const norm = Math.sqrt(parts.reduce((s, p) => s + (tf.sum(tf.square(p)).dataSync()[0] as number), 0));
  return parts.map((p) => tf.div(p, norm));
}

export const dot = (a: readonly Tensor[], b: readonly Tensor[]): number =>
  a.reduce((s, x, i) => s + (tf.sum(tf.mul(x, b[i])).dataSync()[0] as number), 0);
