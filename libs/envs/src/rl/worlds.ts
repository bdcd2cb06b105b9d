import type { Task } from '@chameleon/tasks';
import type { EnvSpec, SequentialEnvironment, TimeSteps } from './environment';
import { VectorEnv } from './vector-env';

/**
 * N worlds behind any transport: a VectorEnv in process, or a remote simulator's world set.
 * The environment contract suite is written against this.
 */
export interface Worlds {
  readonly spec: EnvSpec;
  readonly numWorlds: number;
  reset(): Promise<TimeSteps>;
  step(actions: Float32Array): Promise<TimeSteps>;
  close(): Promise<void>;
}

export type WorldsFactory = (tasks: readonly Task[], numWorlds: number, seed: number) => Promise<Worlds>;

/** Worlds of an in-process environment. */
export const localWorlds =
  (env: SequentialEnvironment): WorldsFactory =>
  async (tasks, numWorlds, seed) => {
    const v = new VectorEnv(env, numWorlds, tasks, seed);
    return {
      spec: v.spec,
      numWorlds,
      reset: async () => v.reset(),
      step: async (a) => v.step(a),
      close: async () => v.close(),
    };
  };
