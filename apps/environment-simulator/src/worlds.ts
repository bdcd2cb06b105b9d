import { randomUUID } from 'node:crypto';
import { check, invalidArgument, notFound, resourceExhausted, stableStringify } from '@chameleon/core';
import { VectorEnv, agentsPerMatch, isSequential, type EnvSpec, type SequentialEnvironment, type TimeSteps } from '@chameleon/envs';
import type { PluginRegistry } from '@chameleon/plugins';
import {
  DataType,
  type CloseWorldsRequest,
  type CloseWorldsResponse,
  type CreateWorldsRequest,
  type CreateWorldsResponse,
  type ResetWorldsRequest,
  type ResetWorldsResponse,
  type StepWorldsRequest,
  type StepWorldsResponse,
  type TensorSpec,
  type TimeStepBatch,
} from '@chameleon/proto';
import { fromWire, toWire } from '@chameleon/tensor';
import { taskFromWire } from '@chameleon/transport';

export interface WorldSetOptions {
  /** Most world sets alive at once. */
  maxSets: number;
  /** Sets unused this long are closed. */
  idleMs: number;
}

export const DEFAULT_WORLD_SET_OPTIONS: WorldSetOptions = { maxSets: 256, idleMs: 10 * 60_000 };

/** The action spec with per-element bounds (and scalar ones when all elements agree). */
export function actionSpec(s: EnvSpec): TensorSpec {
  const lo = [...s.actionMinimum];
  const hi = [...s.actionMaximum];
  const same = lo.every((v) => v === lo[0]) && hi.every((v) => v === hi[0]);
  return { name: 'action', dtype: DataType.DATA_TYPE_FLOAT32, shape: [...s.actionShape], minimum: same ? lo[0] : undefined, maximum: same ? hi[0] : undefined, elementMinimum: lo, elementMaximum: hi };
}

export function timeStepsToWire(ts: TimeSteps, numWorlds: number, observationShape: readonly number[]): TimeStepBatch {
  return {
    stepTypes: toWire({ dtype: 'uint8', shape: [numWorlds], data: ts.stepTypes }),
    rewards: toWire({ dtype: 'float32', shape: [numWorlds], data: ts.rewards }),
    discounts: toWire({ dtype: 'float32', shape: [numWorlds], data: ts.discounts }),
    observations: toWire({ dtype: 'float32', shape: [numWorlds, ...observationShape], data: ts.observations }),
    outcomes: ts.outcomes ? toWire({ dtype: 'int32', shape: [numWorlds], data: Int32Array.from(ts.outcomes) }) : undefined,
  };
}

/** Resolves a sequential environment plugin by name and config, with a cache. */
export class SequentialEnvironments {
  private readonly cache = new Map<string, SequentialEnvironment>();

  constructor(private readonly registry: PluginRegistry) {}

  get(name: string, config: unknown, field = 'environment'): SequentialEnvironment {
    check(name, field, 'is required');
    const key = `${name}\u0000${stableStringify(config ?? {})}`;
    let env = this.cache.get(key);
    if (!env) {
      const made = this.registry.create<unknown>('environment', name, config ?? {}, 'config');
      if (!isSequential(made)) throw invalidArgument(field, `"${name}" is a supervised data source; use SampleSupervised`);
      env = made;
      if (this.cache.size > 64) this.cache.clear();
      this.cache.set(key, env);
    }
    return env;
  }
}

/**
 * Stateful world sets for remote inference and for simulators driven step by step. Each
 * set is a VectorEnv; idle sets are closed, and their number is bounded.
 */
export class WorldSets {
  private readonly sets = new Map<string, { env: VectorEnv; used: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly environments: SequentialEnvironments,
    private readonly options: WorldSetOptions = DEFAULT_WORLD_SET_OPTIONS,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, options.idleMs)).unref();
  }

  private sweep(now = Date.now()): void {
    for (const [id, s] of this.sets) {
      if (now - s.used > this.options.idleMs) {
        s.env.close();
        this.sets.delete(id);
      }
    }
  }

  private get(id: string): VectorEnv {
    const s = this.sets.get(id);
    if (!s) throw notFound(`no world set "${id}" (closed, or idle longer than ${this.options.idleMs / 1000} s)`, 'world_set_id');
    s.used = Date.now();
    return s.env;
  }

  get size(): number {
    return this.sets.size;
  }

  async create(req: CreateWorldsRequest): Promise<CreateWorldsResponse> {
    const env = this.environments.get(req.environment, req.config);
    await env.ready?.();
    check(req.tasks.length > 0, 'tasks', 'give one task, or one per world');
    const tasks = req.tasks.map((t, i) => taskFromWire(t, `tasks[${i}]`));
    this.sweep();
    if (this.sets.size >= this.options.maxSets) throw resourceExhausted('world_set_id', `at most ${this.options.maxSets} world sets are open; close some with CloseWorlds`);
    const vec = new VectorEnv(env, req.numWorlds, tasks, req.seed);
    const id = randomUUID();
    this.sets.set(id, { env: vec, used: Date.now() });
    const s = env.spec;
    return {
      worldSetId: id,
      observationSpec: { name: 'observation', dtype: DataType.DATA_TYPE_FLOAT32, shape: [...s.observationShape], elementMinimum: [], elementMaximum: [] },
      actionSpec: actionSpec(s),
      numWorlds: req.numWorlds,
      maxEpisodeSteps: s.maxEpisodeSteps,
      agentsPerMatch: agentsPerMatch(env),
    };
  }

  reset(req: ResetWorldsRequest): ResetWorldsResponse {
    const env = this.get(req.worldSetId);
    if (req.tasks.length) env.setTasks(req.tasks.map((t, i) => taskFromWire(t, `tasks[${i}]`)));
    return { timeSteps: timeStepsToWire(env.reset(), env.numWorlds, env.spec.observationShape) };
  }

  step(req: StepWorldsRequest): StepWorldsResponse {
    const env = this.get(req.worldSetId);
    const a = fromWire(req.actions, 'actions', ['float32'] as const);
    const want = [env.numWorlds, ...env.spec.actionShape];
    check(a.shape.length === want.length && want.every((d, i) => a.shape[i] === d), 'actions', `must have shape [${want.join(', ')}], got [${a.shape.join(', ')}]`);
    return { timeSteps: timeStepsToWire(env.step(a.data), env.numWorlds, env.spec.observationShape) };
  }

  close(req: CloseWorldsRequest): CloseWorldsResponse {
    const env = this.get(req.worldSetId);
    env.close();
    this.sets.delete(req.worldSetId);
    return {};
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const s of this.sets.values()) s.env.close();
    this.sets.clear();
  }
}

