import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { ChameleonError, Rng } from '@chameleon/core';
import type { AnyRunConfig } from '@chameleon/config';
import { RunState, type Checkpoint, type RunStatus, type WatchRunResponse } from '@chameleon/proto';
import { ATTR, SPAN, currentTraceId, metrics, withSpan } from '@chameleon/telemetry';
import type { Peers } from '@chameleon/transport';
import { saveCheckpoint } from '@chameleon/transport';

/** Spans of the outer loop carry this service name, also when all services share a process. */
export const SERVICE = 'meta-optimiser';

/** Seed of iteration i's data: a pure function of the run seed, so resumed runs see the same data. */
export const dataSeed = (seed: number, phase: string, i: number): number => Rng.fromKeys('data', seed, phase, i).seed();

/** What one iteration reports. */
export interface IterationResult {
  metaLoss: number;
  preAdaptationLoss: number;
  preAdaptationReturn?: number;
  postAdaptationReturn?: number;
  /** Further fields for metrics.jsonl (e.g. rollout statistics). */
  extra?: Record<string, unknown>;
}

/** A training phase: its length, position and one iteration. */
export interface TrainingPhase {
  readonly name: string;
  readonly total: number;
  /** Completed iterations (restored from checkpoints). */
  iteration(): number;
  /** Runs iteration i; `timed` wraps each part in a span and records its duration. */
  iterate(i: number, timed: <T>(name: string, fn: () => Promise<T> | T) => Promise<T>): Promise<IterationResult>;
}

export interface RunBaseParts {
  readonly id: string;
  readonly config: AnyRunConfig;
  readonly outDir: string;
  readonly peers: Peers;
  readonly log: (line: string) => void;
}

/**
 * The lifecycle every run shares: training phases in order, then the final evaluation;
 * progress events and metrics.jsonl per iteration; atomic checkpoints on a cadence, on stop
 * and on failure; one trace per iteration. Subclasses supply the phases, the evaluation and
 * the checkpoint contents.
 */
export abstract class RunBase {
  readonly id: string;
  readonly config: AnyRunConfig;
  readonly outDir: string;
  readonly checkpointPath: string;
  protected readonly peers: Peers;
  protected readonly log: (line: string) => void;
  protected phase = '';
  protected backend = '';
  private readonly events = new EventEmitter();
  private state: RunState = RunState.RUN_STATE_PENDING;
  private lastLoss = NaN;
  private error = '';
  private stopRequested = false;
  private metricsOut?: WriteStream;
  private readonly startedAt = new Date();
  private finished?: Promise<void>;

  constructor(parts: RunBaseParts) {
    this.id = parts.id;
    this.config = parts.config;
    this.outDir = parts.outDir;
    this.checkpointPath = join(parts.outDir, 'checkpoint.ckpt');
    this.peers = parts.peers;
    this.log = parts.log;
  }

  /** Training phases in order (e.g. meta-train, baseline). */
  protected abstract phases(): TrainingPhase[];
  /** The final evaluation (writes eval.json and announces it). */
  protected abstract finalEvaluation(): Promise<void>;
  protected abstract evaluationEnabled(): boolean;
  /** Everything needed to resume. */
  protected abstract checkpointMessage(): Checkpoint;

  /** The first phase with work left, else 'evaluate': so a resumed run continues where it was. */
  protected currentPhase(): string {
    return this.phases().find((p) => p.iteration() < p.total)?.name ?? 'evaluate';
  }

  status(): RunStatus {
    const p = this.phases().find((x) => x.name === this.phase) ?? this.phases()[0];
    return {
      runId: this.id,
      state: this.state,
      phase: this.phase,
      iteration: p.iteration(),
      totalIterations: p.total,
      lastMetaLoss: this.lastLoss,
      checkpointPath: this.checkpointPath,
      error: this.error,
      outputDir: this.outDir,
      backend: this.backend,
    };
  }

  get ended(): boolean {
    return [RunState.RUN_STATE_COMPLETED, RunState.RUN_STATE_FAILED, RunState.RUN_STATE_STOPPED].includes(this.state);
  }

  subscribe(listener: (e: WatchRunResponse) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  protected emit(e: WatchRunResponse): void {
    this.events.emit('event', e);
  }

  /** Starts the run in the background; resolves when it has ended (never rejects). */
  start(): Promise<void> {
    this.finished ??= this.execute();
    return this.finished;
  }

  /** Asks the run to stop after the current iteration; resolves once it has checkpointed. */
  async stop(): Promise<RunStatus> {
    this.stopRequested = true;
    await (this.finished ?? Promise.resolve());
    return this.status();
  }

  protected record(line: Record<string, unknown>): void {
    this.metricsOut?.write(`${JSON.stringify(line)}\n`);
  }

  private async execute(): Promise<void> {
    try {
      mkdirSync(this.outDir, { recursive: true });
      writeFileSync(join(this.outDir, 'config.json'), `${JSON.stringify(this.config, null, 2)}\n`);
      this.metricsOut = createWriteStream(join(this.outDir, 'metrics.jsonl'), { flags: 'a' });
      this.backend = (await this.peers.describeLearner()).backend;
      this.state = RunState.RUN_STATE_RUNNING;
      this.writeRunJson();
      for (const p of this.phases()) {
        if (this.stopRequested) break;
        if (p.iteration() >= p.total) continue;
        this.phase = p.name;
        await this.trainPhase(p);
      }
      if (!this.stopRequested) this.phase = 'evaluate';
      this.checkpoint();
      if (!this.stopRequested) {
        if (this.evaluationEnabled()) await this.finalEvaluation();
        this.phase = 'done';
        this.checkpoint();
      }
      this.state = this.stopRequested && this.phase !== 'done' ? RunState.RUN_STATE_STOPPED : RunState.RUN_STATE_COMPLETED;
    } catch (e) {
      this.state = RunState.RUN_STATE_FAILED;
      this.error = e instanceof ChameleonError ? `${e.code}: ${e.message}` : String((e as Error)?.stack ?? e);
      this.log(`run ${this.id} failed: ${this.error}`);
      // Keep what was computed: the last good parameters are still in memory.
      try {
        this.checkpoint();
      } catch (inner) {
        this.log(`run ${this.id}: could not write the failure checkpoint: ${(inner as Error).message}`);
      }
    } finally {
      this.writeRunJson();
      this.emit({ event: { $case: 'finished', finished: this.status() } });
      await new Promise<void>((resolve) => (this.metricsOut ? this.metricsOut.end(resolve) : resolve()));
    }
  }

  private writeRunJson(): void {
    const info = {
      runId: this.id,
      kind: (this.config as { kind?: string }).kind ?? 'supervised',
      backend: this.backend,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', platform: platform(), node: process.version, memoryGiB: Math.round(totalmem() / 2 ** 30) },
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.ended ? new Date().toISOString() : undefined,
      wallSeconds: (Date.now() - this.startedAt.getTime()) / 1000,
      state: RunState[this.state],
      error: this.error || undefined,
    };
    writeFileSync(join(this.outDir, 'run.json'), `${JSON.stringify(info, null, 2)}\n`);
  }

  private async trainPhase(p: TrainingPhase): Promise<void> {
    const window: number[] = [];
    while (p.iteration() < p.total && !this.stopRequested) {
      const i = p.iteration();
      const t0 = performance.now();
      const phaseSeconds: Record<string, number> = {};
      const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
        const t = performance.now();
        try {
          return await withSpan(name, { [ATTR.SERVICE]: SERVICE }, fn);
        } finally {
          phaseSeconds[name] = (performance.now() - t) / 1000;
        }
      };
      const attrs = { [ATTR.SERVICE]: SERVICE, [ATTR.RUN_ID]: this.id, [ATTR.ITERATION]: i + 1, [ATTR.PHASE]: p.name };
      const { out, traceId } = await withSpan(SPAN.META_ITERATION, attrs, async () => ({ out: await p.iterate(i, timed), traceId: currentTraceId() }), { root: true });
      window.push(performance.now());
      if (window.length > 50) window.shift();
      const itPerSec = window.length > 1 ? ((window.length - 1) * 1000) / (window[window.length - 1] - window[0]) : 1000 / (performance.now() - t0);
      this.lastLoss = out.metaLoss;
      const elapsed = (Date.now() - this.startedAt.getTime()) / 1000;
      const progress = {
        phase: p.name,
        iteration: p.iteration(),
        totalIterations: p.total,
        metaLoss: out.metaLoss,
        preAdaptationLoss: out.preAdaptationLoss,
        iterationsPerSecond: itPerSec,
        phaseSeconds,
        traceId: traceId ?? '',
        elapsedSeconds: elapsed,
        preAdaptationReturn: out.preAdaptationReturn ?? 0,
        postAdaptationReturn: out.postAdaptationReturn ?? 0,
      };
      this.record({
        type: 'progress',
        phase: p.name,
        iteration: p.iteration(),
        total: p.total,
        metaLoss: out.metaLoss,
        preAdaptationLoss: out.preAdaptationLoss,
        ...(out.preAdaptationReturn !== undefined ? { preAdaptationReturn: out.preAdaptationReturn, postAdaptationReturn: out.postAdaptationReturn } : {}),
        ...(out.extra ?? {}),
        itPerSec,
        phaseSeconds,
        traceId,
        elapsed,
      });
      metrics().recordIteration({ metaLoss: out.metaLoss, iterationsPerSecond: itPerSec, phaseSeconds, attributes: { [ATTR.RUN_ID]: this.id, [ATTR.PHASE]: p.name } });
      this.emit({ event: { $case: 'progress', progress } });
      if (p.iteration() % this.checkpointEvery() === 0 || p.iteration() === p.total) this.checkpoint();
    }
  }

  private checkpointEvery(): number {
    return this.config.checkpoint.every;
  }

  /** Writes the checkpoint atomically and announces it. */
  checkpoint(): void {
    saveCheckpoint(this.checkpointPath, this.checkpointMessage());
    const p = this.phases().find((x) => x.name === this.phase);
    const iteration = p ? p.iteration() : this.phases()[0].iteration();
    this.record({ type: 'checkpoint', path: this.checkpointPath, iteration, phase: this.phase });
    this.emit({ event: { $case: 'checkpoint', checkpoint: { path: this.checkpointPath, iteration, phase: this.phase } } });
  }
}
