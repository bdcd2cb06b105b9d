import type { AdaptationJob, AgentContext, CheckpointContent, NamedParams } from '@chameleon/agents';
import { AdaptationPool } from './adapt-pool';
import { loadCheckpoint } from '@chameleon/transport';
import type { PluginRegistry } from '@chameleon/plugins';
import type { Parameters } from '@chameleon/proto';
import type { Policy } from '@chameleon/rl';
import { paramsFromWire } from '@chameleon/tensor';

const named = (p: Parameters | undefined, field: string): NamedParams | undefined => {
  if (!p || !p.tensors.length) return undefined;
  const list = paramsFromWire(p, field);
  return { names: list.map((x) => x.name), values: list.map((x) => Float32Array.from(x.tensor.data)) };
};

export interface AgentContextOptions {
  /**
   * Where agents' between-round updates run. Default: a pool of `adaptationWorkers` worker
   * threads (default 2), so that an update never holds up other opponents' actions; with
   * `adaptationWorkers: 0` and no function, inline on the event loop. Two rather than one
   * even on 2 cores: with 32 closed-loop opponents rounds end in bursts, and a second worker
   * cut the adaptation p99 from 313-605 ms to 250-295 ms (BENCHMARKS.md, "Agent server").
   */
  readonly offloadAdaptation?: AgentContext['offloadAdaptation'];
  readonly adaptationWorkers?: number;
}

/**
 * Agents read checkpoints and build policies through the host's plugin registry; their
 * between-round updates run in worker threads (see {@link AgentContextOptions}).
 */
export function agentContext(registry: PluginRegistry, options: AgentContextOptions = {}): AgentContext {
  const workers = options.adaptationWorkers ?? 2;
  let pool: AdaptationPool | undefined;
  const offload = options.offloadAdaptation ?? (workers > 0 ? (job: AdaptationJob) => (pool ??= new AdaptationPool(workers, 'auto')).run(job) : undefined);
  const cache = new Map<string, CheckpointContent>();
  return {
    readCheckpoint(path: string): CheckpointContent {
      let c = cache.get(path);
      if (!c) {
        const ckpt = loadCheckpoint(path, 'checkpoint');
        const arch = ckpt.model?.architecture;
        if (!arch) throw new Error(`checkpoint ${path} names no policy`);
        c = {
          policy: { architecture: arch, config: (ckpt.model?.config ?? {}) as Record<string, unknown> },
          params: named(ckpt.params, 'checkpoint.params')!,
          baseline: named(ckpt.baselineParams, 'checkpoint.baseline_params'),
          trainees: Object.fromEntries(ckpt.trainees.flatMap((t) => {
            const p = named(t.params, `checkpoint.trainees.${t.name}`);
            return p ? [[t.name, p]] : [];
          })),
          config: (ckpt.config ?? {}) as Record<string, unknown>,
        };
        cache.set(path, c);
      }
      return c;
    },
    createPolicy: (architecture, config) => registry.create<Policy>('policy', architecture, config, 'policy.config'),
    offloadAdaptation: offload,
  };
}
