import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { alreadyExists, check, failedPrecondition, invalidArgument, notFound, stableStringify } from '@chameleon/core';
import { isRlConfig, parseAnyRunConfig, type AnyRunConfig, type RlRunConfig, type RunConfig } from '@chameleon/config';
import { taskFeatures } from '@chameleon/envs';
import { sampleTasks, type TaskFamily } from '@chameleon/tasks';
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
import { loadCheckpoint } from '@chameleon/transport';
import type { RunBase } from './run-base';
import { SupervisedRun } from './supervised-run';
import { RlRun, type PolicyShape } from './rl-run';

export interface MetaOptimiserOptions {
  readonly peers: Peers;
  readonly registry: PluginRegistry;
  /** Folder for runs whose StartRun names no output folder. */
  readonly runsDir: string;
  /**
   * StartRun's output_dir and resume_from must lie inside runsDir (relative ones resolve against
   * it); anything else is INVALID_ARGUMENT. Served meta-optimisers set it; the embedded one (the
   * local user's own process) does not.
   */
  readonly confineToRunsDir?: boolean;
  readonly log?: (line: string) => void;
}

/** Longest output_dir / resume_from a confined meta-optimiser accepts (Linux PATH_MAX). */
const MAX_PATH = 4096;

/** The real path of `p`, or of its nearest existing ancestor joined with the rest (symlinks resolved). */
function realPathOfNearest(p: string): string {
  const rest: string[] = [];
  let at = p;
  while (!existsSync(at)) {
    const up = dirname(at);
    if (up === at) break;
    rest.unshift(basename(at));
    at = up;
  }
  return join(existsSync(at) ? realpathSync(at) : at, ...rest);
}

/**
 * `p` resolved against `root`, refused unless it lies strictly inside `root` (also after
 * following symlinks), so a caller cannot make the service write or read elsewhere.
 */
export function confinedPath(root: string, p: string, field: string): string {
  // Bounded first: the symlink walk below costs a syscall per missing path component.
  check(p.length <= MAX_PATH && !p.includes('\0'), field, `must be a path of at most ${MAX_PATH} characters without NUL bytes`);
  const base = resolve(root);
  const full = resolve(base, p);
  const inside = (r: string, q: string) => {
    const rel = relative(r, q);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  };
  if (!inside(base, full) || !inside(realPathOfNearest(base), realPathOfNearest(full))) {
    throw invalidArgument(field, `must lie inside the meta-optimiser's runs folder (give a path relative to it, e.g. "my-run"); got "${p}". An operator can lift this with confineToRunsDir: false (--allow-any-output-dir)`);
  }
  return full;
}

/** Parts of a config that may change on resume; everything else must match the checkpoint. */
const RESUMABLE = ['meta', 'checkpoint', 'validation', 'evaluation', 'baseline'] as const;

function checkResumable<C extends AnyRunConfig>(saved: C, requested: C): C {
  for (const key of Object.keys(saved) as Array<keyof C>) {
    if ((RESUMABLE as readonly string[]).includes(String(key))) continue;
    if (stableStringify(saved[key]) !== stableStringify(requested[key])) {
      throw failedPrecondition(`config.${String(key)} differs from the checkpoint's; only ${RESUMABLE.join(', ')} may change when resuming`);
    }
  }
  const keepMeta = { ...saved.meta, iterations: requested.meta.iterations };
  if (stableStringify(keepMeta) !== stableStringify(requested.meta)) {
    throw failedPrecondition('config.meta must match the checkpoint when resuming, except meta.iterations');
  }
  return requested;
}

/** Runs, by id, and the gRPC face of the outer loop. */
export class MetaOptimiser {
  private readonly runs = new Map<string, RunBase>();

  constructor(private readonly options: MetaOptimiserOptions) {}

  /** Validates everything a supervised run needs before accepting it, so bad configs fail at StartRun. */
  private buildSupervised(config: RunConfig): { model: FunctionalModel; algorithm: MetaAlgorithm } {
    const reg = this.options.registry;
    reg.parseConfig('task-family', config.task.family, config.task.config, 'config.task.config');
    reg.parseConfig('environment', config.task.family, config.environment.config, 'config.environment.config');
    const model = reg.create<FunctionalModel>('model', config.model.architecture, config.model.config, 'config.model.config');
    const algorithm = reg.create<MetaAlgorithm>('algorithm', config.algorithm.name, config.algorithm.config, 'config.algorithm.config');
    return { model, algorithm };
  }

  /** An RL run needs the environment's shapes (from the simulator) and the policies built from them. */
  private async buildRl(config: RlRunConfig) {
    const reg = this.options.registry;
    const familyPlugin = reg.create<TaskFamily>('task-family', config.task.family, config.task.config, 'config.task.config');
    reg.parseConfig('algorithm', config.algorithm.name, config.algorithm.config, 'config.algorithm.config');
    const environment = config.environment.name ?? config.task.family;
    const listed = (await this.options.peers.listEnvironments()).environments.find((e) => e.name === environment);
    if (!listed) throw notFound(`the simulator has no environment "${environment}"`, 'config.environment.name');
    if (listed.supervised) throw invalidArgument('config.environment.name', `"${environment}" is a supervised data source; RL runs need a sequential environment`);
    const size = (shape: number[] | undefined) => (shape ?? []).reduce((a, b) => a * b, 1);
    const obsSize = size(listed.observationSpec?.shape);
    const actSize = size(listed.actionSpec?.shape);
    const policyFor = (observationSize: number): { policy: PolicyShape; spec: { architecture: string; config: Record<string, unknown> } } => {
      const cfg = { ...config.policy.config, observationSize, actionSize: actSize };
      const policy = reg.create<PolicyShape>('policy', config.policy.architecture, cfg, 'config.policy.config');
      if (typeof policy.init !== 'function' || !Array.isArray(policy.spec)) throw invalidArgument('config.policy.architecture', `"${config.policy.architecture}" is not a policy`);
      return { policy, spec: { architecture: config.policy.architecture, config: cfg } };
    };
    const main = policyFor(obsSize);
    let oracle: { policy: PolicyShape; spec: { architecture: string; config: Record<string, unknown> } } | undefined;
    if (config.baseline.oracleIterations > 0) {
      const features = taskFeatures(sampleTasks(familyPlugin, { split: 'train', seed: config.seed, start: 0, count: 1 })[0]).length;
      oracle = policyFor(obsSize + features);
    }
    const horizon = config.meta.horizon || listed.maxEpisodeSteps;
    if (!horizon) throw invalidArgument('config.meta.horizon', `"${environment}" declares no episode limit; set meta.horizon`);
    return { environment, policy: main.policy, policySpec: main.spec, oracle, obsSize, actSize, horizon };
  }

  async start(req: StartRunRequest): Promise<RunBase> {
    const existing = req.runId ? this.runs.get(req.runId) : undefined;
    if (existing) {
      if (!existing.ended) return existing;
      throw alreadyExists(`run "${req.runId}" already ran (state ${existing.status().state}); choose another run_id or resume from its checkpoint`);
    }
    if (req.runId) check(/^[A-Za-z0-9._-]{1,128}$/.test(req.runId), 'run_id', 'letters, digits, ".", "_" and "-" only, at most 128');
    const confine = (p: string, field: string) => (this.options.confineToRunsDir ? confinedPath(this.options.runsDir, p, field) : p);
    const outputDir = req.outputDir ? confine(req.outputDir, 'output_dir') : '';
    const resume = req.resumeFrom ? loadCheckpoint(confine(req.resumeFrom, 'resume_from')) : undefined;
    let config: AnyRunConfig;
    if (resume) {
      const saved = parseAnyRunConfig(resume.config, 'checkpoint.config');
      config = req.config && Object.keys(req.config).length ? checkResumable(saved, parseAnyRunConfig(req.config, 'config')) : saved;
    } else {
      check(req.config && Object.keys(req.config).length > 0, 'config', 'is required (the run configuration object)');
      config = parseAnyRunConfig(req.config, 'config');
    }
    for (const p of config.plugins) loadPluginModule(this.options.registry, p);
    const id = req.runId || resume?.runId || `${config.name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
    const outDir = resolve(outputDir || join(this.options.runsDir, id));
    const base = { id, outDir, peers: this.options.peers, log: this.options.log ?? (() => undefined), resume };
    const run: RunBase = isRlConfig(config)
      ? new RlRun({ ...base, config, ...(await this.buildRl(config)) })
      : new SupervisedRun({ ...base, config, ...this.buildSupervised(config) });
    this.runs.set(id, run);
    void run.start();
    return run;
  }

  get(id: string): RunBase {
    const run = this.runs.get(id);
    if (!run) throw notFound(`no run "${id}"; ListRuns shows the known runs`, 'run_id');
    return run;
  }

  list(): RunBase[] {
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
        startRun: unary<StartRunRequest, StartRunResponse>('MetaOptimiser.StartRun', async (req) => ({ run: (await this.start(req)).status() })),
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
