import { Rng } from '@chameleon/core';
import { sampleTasks, type Task, type TaskFamily } from '@chameleon/tasks';
import type { SequentialEnvironment, TimeSteps } from '../rl/environment';
import { VectorEnv } from '../rl/vector-env';

/**
 * Helpers for the MuJoCo specs (and for running the same checks through gRPC later).
 * Not exported from the package index.
 */

/**
 * `tasks(n)` for the environment contract: the contract compares the first two tasks'
 * returns, so for two-valued families we take the first seed whose tasks 0 and 1 differ.
 */
export function contractTasks(family: TaskFamily, key: (t: Task) => string): (n: number) => Task[] {
  let seed = 1;
  const firstTwo = () => sampleTasks(family, { split: 'train', seed, start: 0, count: 2 });
  while (key(firstTwo()[0]) === key(firstTwo()[1])) seed++;
  return (n) => sampleTasks(family, { split: 'train', seed, start: 0, count: n });
}

/** Uniform random actions in [-1, 1] for every world. */
export function randomActions(rng: Rng, size: number): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** One world of `env` playing `task`; steps `actions(t)` for `steps` steps (stops at LAST). */
export function rollout(env: SequentialEnvironment, task: Task, steps: number, actions: (t: number) => Float32Array, seed = 0): TimeSteps[] {
  const v = new VectorEnv(env, 1, [task], seed, Math.max(steps, 1));
  try {
    const out = [v.reset()];
    for (let t = 0; t < steps; t++) {
      const ts = v.step(actions(t));
      out.push(ts);
      if (ts.stepTypes[0] === 3) break;
    }
    return out;
  } finally {
    v.close();
  }
}

/** A task of `family` with the given params (ids are irrelevant to worlds). */
export const taskWith = (family: TaskFamily, params: Record<string, unknown>): Task => ({
  ...sampleTasks(family, { split: 'train', seed: 0, start: 0, count: 1 })[0],
  params,
});
