import { Rng } from '@chameleon/core';
import { NavigationEnvironment, NavigationFamily, VectorEnv, navigationEnvConfig } from '@chameleon/envs';
import { sampleTasks } from '@chameleon/tasks';
import { collectEpisodes } from './collect';
import type { Policy } from './policy';
import { splitByTask, type TrajectoryBatch } from './trajectory';

/**
 * 2D-navigation trajectories for tests: `tasks` goals, `episodes` per task, episodes of at
 * most `horizon` steps, sampled with one parameter set per task. Deterministic in `seed`.
 */
export function navigationBatches(policy: Policy, paramsPerTask: readonly (readonly Float32Array[])[], opts: { tasks: number; episodes: number; horizon: number; seed: number }): TrajectoryBatch[] {
  const { tasks: T, episodes: K, horizon: H, seed } = opts;
  const env = new NavigationEnvironment(navigationEnvConfig.parse({ horizon: H }));
  const tasks = sampleTasks(new NavigationFamily(), { split: 'train', seed, start: 0, count: T });
  // One world per episode: world w plays task floor(w / K).
  const worldTask = Array.from({ length: T * K }, (_, w) => Math.floor(w / K));
  const venv = new VectorEnv(env, T * K, worldTask.map((i) => tasks[i]), seed);
  const rng = Rng.fromKeys('test-actions', seed);
  const batch = collectEpisodes(venv, (o, n, r) => policy.actRows(paramsPerTask, worldTask, o, n, r), T * K, H, rng, { taskOfWorld: worldTask });
  return splitByTask(batch, T);
}

/** Random unit direction of the given length (seeded). */
export function randomUnit(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(n).map(() => rng.normal());
  const norm = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
  return v.map((a) => a / norm);
}

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

export const axpy = (x: Float32Array, a: number, v: Float32Array): Float32Array => x.map((xi, i) => xi + a * v[i]);
