import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { alreadyExists, check, failedPrecondition, notFound, stableStringify } from '@chameleon/core';
import { parseRunConfig, type RunConfig } from '@chameleon/config';
import type { MetaAlgorithm } from '@chameleon/meta';
import type { FunctionalModel } from '@chameleon/nn';
import { loadPluginModule, type PluginRegistry } from '@chameleon/plugins';
import {
  MetaOptimiserServiceService,
  type GetRunRequest,
  type GetRunResponse,
  type ListRunsRequest,
  type ListRunsResponse,
  type StartRunRequest,
  type StartRunResponse,
  type StopRunRequest,
  type StopRunResponse,
  type WatchRunRequest,
  type WatchRunResponse,
} from '@chameleon/proto';
import { serverStream, unary, type HostedService, type Peers } from '@chameleon/transport';
import { loadCheckpoint } from './checkpoint';
import { Run } from './run';

export interface MetaOptimiserOptions {
  readonly peers: Peers;
  readonly registry: PluginRegistry;
  /** Folder for runs whose StartRun names no output folder. */
  readonly runsDir: string;
  readonly log?: (line: string) => void;
}

/** Parts of a config that may change on resume; everything else must match the checkpoint. */
const RESUMABLE = ['meta', 'checkpoint', 'validation', 'evaluation', 'baseline'] as const;

function checkResumable(saved: RunConfig, requested: RunConfig): RunConfig {
  for (const key of Object.keys(saved) as Array<keyof RunConfig>) {
    if ((RESUMABLE as readonly string[]).includes(key)) continue;
    if (stableStringify(saved[key]) !== stableStringify(requested[key])) {
      throw failedPrecondition(`config.${key} differs from the checkpoint's; only ${RESUMABLE.join(', ')} may change when resuming`);
    }
  }
  const keepMeta = { ...requested.meta, batchSize: saved.meta.batchSize, optimiser: saved.meta.optimiser };
  if (stableStringify(keepMeta) !== stableStringify(requested.meta)) {
    throw failedPrecondition('config.meta.batchSize and config.meta.optimiser must match the checkpoint when resuming; only meta.iterations may change');
  }
  return requested;
}

/** Runs, by id, and the gRPC face of the outer loop. */
export class MetaOptimiser {
  private readonly runs = new Map<string, Run>();

  constructor(private readonly options: MetaOptimiserOptions) {}

  /** Validates everything a run needs before accepting it, so bad configs fail at StartRun. */
  private build(config: RunConfig): { model: FunctionalModel; algorithm: MetaAlgorithm } {
    const reg = this.options.registry;
    for (const p of config.plugins) loadPluginModule(reg, p);
    reg.parseConfig('task-family', config.task.family, config.task.config, 'config.task.config');
    reg.parseConfig('environment', config.task.family, config.environment.config, 'config.environment.config');
    const model = reg.create<FunctionalModel>('model', config.model.architecture, config.model.config, 'config.model.config');
    const algorithm = reg.create<MetaAlgorithm>('algorithm', config.algorithm.name, config.algorithm.config, 'config.algorithm.config');
    return { model, algorithm };
  }

  start(req: StartRunRequest): Run {
    const existing = req.runId ? this.runs.get(req.runId) : undefined;
    if (existing) {
      if (!existing.ended) return existing;
      throw alreadyExists(`run "${req.runId}" already ran (state ${existing.status().state}); choose another run_id or resume from its checkpoint`);
    }
    if (req.runId) check(/^[A-Za-z0-9._-]{1,128}$/.test(req.runId), 'run_id', 'letters, digits, ".", "_" and "-" only, at most 128');
    const resume = req.resumeFrom ? loadCheckpoint(req.resumeFrom) : undefined;
    let config: RunConfig;
    if (resume) {
      const saved = parseRunConfig(resume.config, 'checkpoint.config');
      config = req.config && Object.keys(req.config).length ? checkResumable(saved, parseRunConfig(req.config, 'config')) : saved;
    } else {
      check(req.config && Object.keys(req.config).length > 0, 'config', 'is required (the run configuration object)');
      config = parseRunConfig(req.config, 'config');
    }
    const { model, algorithm } = this.build(config);
    const id = req.runId || resume?.runId || `${config.name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
    const outDir = resolve(req.outputDir || join(this.options.runsDir, id));
    const run = new Run({ id, config, outDir, model, algorithm, peers: this.options.peers, log: this.options.log ?? (() => undefined), resume });
    this.runs.set(id, run);
    void run.start();
    return run;
  }

  get(id: string): Run {
    const run = this.runs.get(id);
    if (!run) throw notFound(`no run "${id}"; ListRuns shows the known runs`, 'run_id');
    return run;
  }

  list(): Run[] {
    return [...this.runs.values()].reverse();
  }

  /** Stops every running run (each checkpoints first). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.runs.values()].filter((r) => !r.ended).map((r) => r.stop()));
  }

  service(): HostedService {
    return {
      name: 'chameleon.v1.MetaOptimiserService',
      definition: MetaOptimiserServiceService,
      implementation: {
        startRun: unary<StartRunRequest, StartRunResponse>('MetaOptimiser.StartRun', (req) => ({ run: this.start(req).status() })),
        getRun: unary<GetRunRequest, GetRunResponse>('MetaOptimiser.GetRun', (req) => ({ run: this.get(req.runId).status() })),
        listRuns: unary<ListRunsRequest, ListRunsResponse>('MetaOptimiser.ListRuns', () => ({ runs: this.list().map((r) => r.status()) })),
        stopRun: unary<StopRunRequest, StopRunResponse>('MetaOptimiser.StopRun', async (req) => ({ run: await this.get(req.runId).stop() })),
        watchRun: serverStream<WatchRunRequest, WatchRunResponse>('MetaOptimiser.WatchRun', (req, out) => this.watch(req, out)),
      },
    };
  }

  private async watch(req: WatchRunRequest, out: { write(m: WatchRunResponse): Promise<void>; ctx: { cancelled(): boolean } }): Promise<void> {
    const run = this.get(req.runId);
    const every = Math.max(1, req.progressEvery || 1);
    await out.write({ event: { $case: 'status', status: run.status() } });
    if (run.ended) {
      await out.write({ event: { $case: 'finished', finished: run.status() } });
      return;
    }
    // Events are queued and written in order; a slow client delays only its own stream.
    const queue: WatchRunResponse[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const unsubscribe = run.subscribe((e) => {
      if (e.event?.$case === 'progress' && e.event.progress.iteration % every !== 0 && e.event.progress.iteration !== e.event.progress.totalIterations) return;
      queue.push(e);
      if (e.event?.$case === 'finished') done = true;
      wake?.();
    });
    try {
      while (!out.ctx.cancelled()) {
        while (queue.length) await out.write(queue.shift()!);
        if (done) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      unsubscribe();
    }
  }
}
