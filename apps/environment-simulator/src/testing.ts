import { z } from 'zod';
import type { Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { ActingPolicy } from './rollouts';

/** action = W obs + b + noise: a tiny policy plugin to exercise rollouts without a learner. */
export const linearTestPolicy: PluginManifest<'policy', { noise: number }, ActingPolicy> = {
  kind: 'policy',
  name: 'test-linear-policy',
  version: '0.0.1',
  description: 'test policy: action = W obs + b + noise',
  configSchema: z.object({ noise: z.number().default(0.05) }) as unknown as z.ZodType<{ noise: number }>,
  create: ({ noise }) => ({
    spec: [{ name: 'w', shape: [2, 2] }, { name: 'b', shape: [2] }],
    observationSize: 2,
    actionSize: 2,
    act(params: readonly Float32Array[], obs: Float32Array, n: number, rng: Rng, deterministic?: boolean) {
      const [w, b] = params;
      const actions = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) actions[i * 2 + j] = w[j * 2] * obs[i * 2] + w[j * 2 + 1] * obs[i * 2 + 1] + b[j] + (deterministic ? 0 : noise * rng.normal());
      return { actions, logProbs: new Float32Array(n).fill(-1) };
    },
  }),
};
