import { check, invalidArgument, stableStringify } from '@chameleon/core';
import { TaskObservingEnvironment, taskFeatures } from '@chameleon/envs';
import type { PluginRegistry } from '@chameleon/plugins';
import type { StreamRolloutsRequest, StreamRolloutsResponse, TrajectoryChunk } from '@chameleon/proto';
import { paramsFromWire, toWire } from '@chameleon/tensor';
import { taskFromWire, type StreamWriter } from '@chameleon/transport';
import { runRollouts, validatePlan, type ActingPolicy, type Chunk } from './rollouts';
import type { SequentialEnvironments } from './worlds';

export function chunkToWire(c: Chunk, obsShape: readonly number[], actShape: readonly number[]): TrajectoryChunk {
  const n = c.rows;
  const finals = c.segments.filter((s) => s.complete);
  const obsSize = obsShape.reduce((a, b) => a * b, 1);
  const finalData = new Float32Array(finals.length * obsSize);
  finals.forEach((s, i) => finalData.set(s.finalObservation ?? new Float32Array(obsSize), i * obsSize));
  return {
    segments: c.segments.map((s) => ({ episode: { task: s.episode.task, episode: s.episode.episode }, offset: s.offset, length: s.length, startStep: s.startStep, complete: s.complete, episodeReturn: s.episodeReturn })),
    observations: toWire({ dtype: 'float32', shape: [n, ...obsShape], data: c.observations }),
    actions: toWire({ dtype: 'float32', shape: [n, ...actShape], data: c.actions }),
    rewards: toWire({ dtype: 'float32', shape: [n], data: c.rewards }),
    logProbs: toWire({ dtype: 'float32', shape: [n], data: c.logProbs }),
    stepTypes: toWire({ dtype: 'uint8', shape: [n], data: c.stepTypes }),
    discounts: toWire({ dtype: 'float32', shape: [n], data: c.discounts }),
    finalObservations: toWire({ dtype: 'float32', shape: [finals.length, ...obsShape], data: finalData }),
  };
}

// A policy declares its observation and action sizes; a model's `act` field alone is not enough.
const isActing = (p: unknown): p is ActingPolicy =>
  !!p && typeof (p as ActingPolicy).act === 'function' && (p as ActingPolicy).act.length >= 4 && Number.isInteger((p as ActingPolicy).observationSize) && Number.isInteger((p as ActingPolicy).actionSize);

/** Policies from model plugins that can act (e.g. "gaussian-mlp"), cached by configuration. */
export class Policies {
  private readonly cache = new Map<string, ActingPolicy>();

  constructor(private readonly registry: PluginRegistry) {}

  get(architecture: string, config: unknown): ActingPolicy {
    check(architecture, 'policy.architecture', 'is required (e.g. "gaussian-mlp")');
    const key = `${architecture}\u0000${stableStringify(config ?? {})}`;
    let p = this.cache.get(key);
    if (!p) {
      const made = this.registry.create<unknown>('policy', architecture, config ?? {}, 'policy.config');
      if (!isActing(made)) throw invalidArgument('policy.architecture', `policy "${architecture}" cannot act (no host-side act)`);
      p = made;
      if (this.cache.size > 64) this.cache.clear();
      this.cache.set(key, p);
    }
    return p;
  }
}

/** StreamRollouts: validate everything, then stream chunks as episodes progress. */
export async function streamRollouts(req: StreamRolloutsRequest, out: StreamWriter<StreamRolloutsResponse>, environments: SequentialEnvironments, policies: Policies): Promise<void> {
  const base = environments.get(req.environment, req.environmentConfig);
  check(req.tasks.length > 0, 'tasks', 'at least one task is required');
  const env = req.observeTask ? new TaskObservingEnvironment(base, taskFeatures(taskFromWire(req.tasks[0], 'tasks[0]')).length) : base;
  const policy = policies.get(req.policy?.architecture ?? '', req.policy?.config);
  const tasks = req.tasks.map((t, i) => taskFromWire(t, `tasks[${i}]`));
  tasks.forEach((t, i) => {
    if (t.family !== env.family) throw invalidArgument(`tasks[${i}].family`, `environment "${env.name}" plays "${env.family}" tasks, not "${t.family}"`);
    env.validateTask?.(t, `tasks[${i}]`);
  });
  const params = req.policyParams.map((p, i) => {
    const named = paramsFromWire(p, `policy_params[${i}]`);
    const byName = new Map(named.map((x) => [x.name, x.tensor.data]));
    return policy.spec.map((s) => {
      const v = byName.get(s.name);
      if (!v) throw invalidArgument(`policy_params[${i}]`, `missing ${s.name}; expected ${policy.spec.map((x) => x.name).join(', ')}`);
      return v;
    });
  });
  const chunkSteps = req.chunkSteps === 0 ? 128 : req.chunkSteps;
  check(chunkSteps >= 32 && chunkSteps <= 256, 'chunk_steps', `must be 32..256 (or 0 for 128), got ${req.chunkSteps}`);
  const plan = {
    env,
    tasks,
    episodes: req.episodes.map((e) => ({ task: e.task, episode: e.episode })),
    params,
    horizon: req.horizon === 0 ? env.spec.maxEpisodeSteps : req.horizon,
    seed: req.seed,
    chunkSteps,
    parallelWorlds: Math.max(1, Math.min(req.parallelWorlds || 64, 1024, req.episodes.length || 1)),
    deterministic: req.deterministic,
  };
  validatePlan(plan, policy);
  await env.ready?.();
  await runRollouts(
    plan,
    policy,
    (c) => out.write({ chunk: chunkToWire(c, env.spec.observationShape, env.spec.actionShape) }),
    () => out.ctx.throwIfDone(),
  );
}
