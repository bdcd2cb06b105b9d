import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { cpus, totalmem, platform } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { ChameleonError, Rng } from '@chameleon/core';
import type { RunConfig } from '@chameleon/config';
import { initialState, optimiserStep, type MetaAlgorithm, type OptimiserConfig, type OptimiserState } from '@chameleon/meta';
import type { FunctionalModel } from '@chameleon/nn';
import { RunState, Split, type Checkpoint, type EvaluateResponse, type ModelSpec, type RunStatus, type WatchRunResponse } from '@chameleon/proto';
import { paramsFromWire, paramsToWire, paramValues } from '@chameleon/tensor';
import { ATTR, SPAN, currentTraceId, metrics, withSpan } from '@chameleon/telemetry';
import { evaluationToJson, type Peers } from '@chameleon/transport';
import { CHECKPOINT_FORMAT_VERSION, optimiserFromWire, optimiserToWire, saveCheckpoint } from './checkpoint';

/** Spans of the outer loop carry this service name, also when all services share a process. */
const SERVICE = 'meta-optimiser';

export type Phase = 'meta-train' | 'baseline' | 'evaluate' | 'done';

/** One trainable parameter set with its optimiser: theta, or the pretrained baseline. */
interface Trainee {
  params: Float32Array[];
  state: OptimiserState;
  iteration: number;
}

export interface RunParts {
  readonly id: string;
  readonly config: RunConfig;
  readonly outDir: string;
  readonly model: FunctionalModel;
  readonly algorithm: MetaAlgorithm;
  readonly peers: Peers;
  readonly log: (line: string) => void;
  /** A checkpoint to continue from. */
  readonly resume?: Checkpoint;
}

/** Seed of iteration i's data: a pure function of the run seed, so resumed runs see the same data. */
export const dataSeed = (seed: number, phase: string, i: number): number => Rng.fromKeys('data', seed, phase, i).seed();

/**
 * A training run: meta-train theta, train the pretrained baseline, evaluate, done. Owns theta
 * and the optimiser state; every iteration is one trace across the services.
 */
export class Run {
  readonly id: string;
  readonly config: RunConfig;
  readonly outDir: string;
  readonly checkpointPath: string;
  private readonly events = new EventEmitter();
  private readonly model: FunctionalModel;
  private readonly algorithm: MetaAlgorithm;
  private readonly peers: Peers;
  private readonly log: (line: string) => void;
  private readonly names: string[];
  private readonly shapes: number[][];
  private readonly modelSpec: ModelSpec;
  private theta: Trainee;
  private baseline: Trainee;
  private phase: Phase = 'meta-train';
  private state: RunState = RunState.RUN_STATE_PENDING;
  private lastLoss = NaN;
  private error = '';
  private backend = '';
  private stopRequested = false;
  private metricsOut?: WriteStream;
  private readonly startedAt = new Date();
  private finished?: Promise<void>;

  constructor(parts: RunParts) {
    this.id = parts.id;
    this.config = parts.config;
    this.outDir = parts.outDir;
    this.checkpointPath = join(parts.outDir, 'checkpoint.ckpt');
    this.model = parts.model;
    this.algorithm = parts.algorithm;
    this.peers = parts.peers;
    this.log = parts.log;
    const spec = this.algorithm.paramSpec(this.model);
    this.names = spec.map((p) => p.name);
    this.shapes = spec.map((p) => [...p.shape]);
    this.modelSpec = { architecture: this.config.model.architecture, config: this.config.model.config };
    const fresh = (init: Float32Array[], opt: OptimiserConfig, names: string[]): Trainee => ({
      params: init,
      state: initialState(opt, names, init.map((v) => v.length)),
      iteration: 0,
    });
    this.theta = fresh(this.algorithm.init(this.model, this.config.seed), this.config.meta.optimiser, this.names);
    const modelNames = this.model.spec.map((p) => p.name);
    this.baseline = fresh(this.model.init(this.config.seed), this.config.baseline.optimiser, modelNames);
    if (parts.resume) this.restore(parts.resume);
  }

  private restore(c: Checkpoint): void {
    this.theta = { params: paramValues(paramsFromWire(c.params, 'checkpoint.params'), this.names), state: optimiserFromWire(c.optimiser), iteration: c.iteration };
    if (c.baselineParams && c.baselineParams.tensors.length) {
      this.baseline = {
        params: paramValues(paramsFromWire(c.baselineParams, 'checkpoint.baseline_params'), this.model.spec.map((p) => p.name)),
        state: optimiserFromWire(c.baselineOptimiser),
        iteration: c.baselineIteration,
      };
    }
    // The phase follows from the counts, so a finished run resumed with more iterations trains on.
    this.phase =
      this.theta.iteration < this.config.meta.iterations ? 'meta-train' : this.baseline.iteration < this.config.baseline.iterations ? 'baseline' : 'evaluate';
    this.log(`run ${this.id}: resuming at ${this.phase} iteration ${this.phase === 'baseline' ? c.baselineIteration : c.iteration}`);
  }

  /** The run's status as the contract describes it. */
  status(): RunStatus {
    const baseline = this.phase === 'baseline';
    return {
      runId: this.id,
      state: this.state,
      phase: this.phase,
      iteration: baseline ? this.baseline.iteration : this.theta.iteration,
      totalIterations: baseline ? this.config.baseline.iterations : this.config.meta.iterations,
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

  /** Listens to events; returns the unsubscribe function. */
  subscribe(listener: (e: WatchRunResponse) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  private emit(e: WatchRunResponse): void {
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

  private async execute(): Promise<void> {
    try {
      mkdirSync(this.outDir, { recursive: true });
      writeFileSync(join(this.outDir, 'config.json'), `${JSON.stringify(this.config, null, 2)}\n`);
      this.metricsOut = createWriteStream(join(this.outDir, 'metrics.jsonl'), { flags: 'a' });
      this.backend = (await this.peers.describeLearner()).backend;
      this.state = RunState.RUN_STATE_RUNNING;
      this.writeRunJson();
      if (this.phase === 'meta-train') {
        await this.trainPhase('meta-train');
        if (!this.stopRequested) this.phase = 'baseline';
      }
      if (this.phase === 'baseline' && !this.stopRequested) {
        if (this.config.baseline.iterations > 0) await this.trainPhase('baseline');
        if (!this.stopRequested) this.phase = 'evaluate';
      }
      this.checkpoint();
      if (this.phase === 'evaluate' && !this.stopRequested) {
        if (this.config.evaluation.enabled) await this.finalEvaluation();
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

  private record(line: Record<string, unknown>): void {
    this.metricsOut?.write(`${JSON.stringify(line)}\n`);
  }

  private async trainPhase(phase: 'meta-train' | 'baseline'): Promise<void> {
    const baseline = phase === 'baseline';
    const trainee = baseline ? this.baseline : this.theta;
    const total = baseline ? this.config.baseline.iterations : this.config.meta.iterations;
    const window: number[] = [];
    while (trainee.iteration < total && !this.stopRequested) {
      const i = trainee.iteration;
      const t0 = performance.now();
      const out = await this.iterate(phase, trainee, i);
      window.push(performance.now());
      if (window.length > 50) window.shift();
      const itPerSec = window.length > 1 ? ((window.length - 1) * 1000) / (window[window.length - 1] - window[0]) : 1000 / (performance.now() - t0);
      this.lastLoss = out.metaLoss;
      const progress = {
        phase,
        iteration: trainee.iteration,
        totalIterations: total,
        metaLoss: out.metaLoss,
        preAdaptationLoss: out.preAdaptationLoss,
        iterationsPerSecond: itPerSec,
        phaseSeconds: out.phaseSeconds,
        traceId: out.traceId ?? '',
        elapsedSeconds: (Date.now() - this.startedAt.getTime()) / 1000,
        preAdaptationReturn: 0,
        postAdaptationReturn: 0,
      };
      this.record({ type: 'progress', phase, iteration: trainee.iteration, total, metaLoss: out.metaLoss, preAdaptationLoss: out.preAdaptationLoss, itPerSec, phaseSeconds: out.phaseSeconds, traceId: out.traceId, elapsed: progress.elapsedSeconds });
      metrics().recordIteration({ metaLoss: out.metaLoss, iterationsPerSecond: itPerSec, phaseSeconds: out.phaseSeconds, attributes: { [ATTR.RUN_ID]: this.id, [ATTR.PHASE]: phase } });
      this.emit({ event: { $case: 'progress', progress } });
      if (trainee.iteration % this.config.checkpoint.every === 0 || trainee.iteration === total) this.checkpoint();
    }
  }

  /** One meta-iteration: one trace covering tasks, data, meta-gradient, update (and validation). */
  private async iterate(phase: 'meta-train' | 'baseline', trainee: Trainee, i: number) {
    const baseline = phase === 'baseline';
    const c = this.config;
    const batchSize = baseline ? (c.baseline.batchSize ?? c.meta.batchSize) : c.meta.batchSize;
    const names = baseline ? this.model.spec.map((p) => p.name) : this.names;
    const shapes = baseline ? this.model.spec.map((p) => [...p.shape]) : this.shapes;
    const attrs = { [ATTR.SERVICE]: SERVICE, [ATTR.RUN_ID]: this.id, [ATTR.ITERATION]: i + 1, [ATTR.PHASE]: phase, [ATTR.ALGORITHM]: baseline ? 'pretrain' : c.algorithm.name };
    return withSpan(
      SPAN.META_ITERATION,
      attrs,
      async () => {
        const phaseSeconds: Record<string, number> = {};
        const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
          const t = performance.now();
          try {
            return await withSpan(name, { [ATTR.SERVICE]: SERVICE }, fn);
          } finally {
            phaseSeconds[name] = (performance.now() - t) / 1000;
          }
        };
        const tasks = await timed(SPAN.SAMPLE_TASKS, () =>
          this.peers.sampleTasks({ family: c.task.family, familyConfig: c.task.config, split: Split.SPLIT_TRAIN, seed: c.seed, startIndex: i * batchSize, count: batchSize }),
        );
        const batch = await timed(SPAN.FETCH_DATA, () =>
          this.peers.sampleSupervised({ tasks, supportSize: c.data.supportSize, querySize: c.data.querySize, seed: dataSeed(c.seed, phase, i), queryInputs: undefined, sourceConfig: c.environment.config }),
        );
        const res = await timed(SPAN.META_GRADIENT, () =>
          this.peers.metaGradient({
            algorithm: baseline ? 'pretrain' : c.algorithm.name,
            algorithmConfig: baseline ? {} : c.algorithm.config,
            model: this.modelSpec,
            params: paramsToWire(names, shapes, trainee.params),
            batch,
            inner: { steps: c.inner.steps, learningRate: c.inner.learningRate },
            loss: 0,
          }),
        );
        await timed(SPAN.META_UPDATE, () => {
          const grads = paramValues(paramsFromWire(res.gradient, 'gradient'), names, 'gradient');
          const opt = baseline ? c.baseline.optimiser : c.meta.optimiser;
          const next = optimiserStep(opt, names, trainee.params, grads, trainee.state);
          trainee.params = next.params;
          trainee.state = next.state;
          trainee.iteration = i + 1;
        });
        if (!baseline && c.validation.every > 0 && (i + 1) % c.validation.every === 0) {
          await timed(SPAN.VALIDATE, () => this.validate(i + 1));
        }
        const pre = res.supportLosses ? meanColumn0(res.supportLosses) : NaN;
        return { metaLoss: res.metaLoss, preAdaptationLoss: pre, phaseSeconds, traceId: currentTraceId() };
      },
      { root: true },
    );
  }

  private candidates() {
    const c = this.config;
    const list = [{ name: c.algorithm.name, params: paramsToWire(this.names, this.shapes, this.theta.params), algorithm: c.algorithm.name }];
    if (c.baseline.iterations > 0 && this.baseline.iteration > 0) {
      list.push({ name: 'pretrained', params: paramsToWire(this.model.spec.map((p) => p.name), this.model.spec.map((p) => [...p.shape]), this.baseline.params), algorithm: '' });
    }
    return list;
  }

  private evaluationRequest(split: Split, tasks: number, steps: number, withBaselines: boolean) {
    const c = this.config;
    const e = c.evaluation;
    return {
      family: c.task.family,
      familyConfig: c.task.config,
      model: this.modelSpec,
      candidates: withBaselines ? this.candidates() : this.candidates().slice(0, 1),
      includeRandomInit: withBaselines && e.randomInit,
      numTasks: tasks,
      shots: e.shots ?? c.data.supportSize,
      querySize: e.querySize,
      maxSteps: steps,
      learningRate: e.learningRate ?? c.inner.learningRate,
      seed: split === Split.SPLIT_VALIDATION ? c.seed : e.seed,
      loss: 0,
      split,
      numExamples: withBaselines ? e.examples : 0,
      chunkSize: 0,
    };
  }

  private async validate(iteration: number): Promise<void> {
    const req = this.evaluationRequest(Split.SPLIT_VALIDATION, this.config.validation.tasks, this.config.inner.steps, false);
    const result = await this.peers.evaluate(req);
    this.record({ type: 'validation', iteration, results: evaluationToJson(result, this.protocol(req)).results });
    this.emit({ event: { $case: 'validation', validation: { iteration, result, final: false } } });
  }

  private protocol(req: { shots: number; querySize: number; maxSteps: number; learningRate: number }) {
    return { shots: req.shots, querySize: req.querySize, maxSteps: req.maxSteps, learningRate: req.learningRate };
  }

  private async finalEvaluation(): Promise<EvaluateResponse> {
    const e = this.config.evaluation;
    const req = this.evaluationRequest(Split.SPLIT_TEST, e.tasks, e.steps, true);
    this.log(`run ${this.id}: evaluating on ${e.tasks} held-out tasks`);
    const result = await withSpan(SPAN.EVALUATE, { [ATTR.SERVICE]: SERVICE, [ATTR.RUN_ID]: this.id }, () => this.peers.evaluate(req), { root: true });
    writeFileSync(join(this.outDir, 'eval.json'), `${JSON.stringify(evaluationToJson(result, this.protocol(req)), null, 1)}\n`);
    this.emit({ event: { $case: 'validation', validation: { iteration: this.theta.iteration, result, final: true } } });
    return result;
  }

  /** Writes the checkpoint atomically and announces it. */
  checkpoint(): void {
    const modelNames = this.model.spec.map((p) => p.name);
    const modelShapes = this.model.spec.map((p) => [...p.shape]);
    const checkpoint: Checkpoint = {
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      runId: this.id,
      config: this.config as unknown as Record<string, unknown>,
      phase: this.phase,
      iteration: this.theta.iteration,
      params: paramsToWire(this.names, this.shapes, this.theta.params),
      optimiser: optimiserToWire(this.theta.state),
      baselineIteration: this.baseline.iteration,
      baselineParams: this.baseline.iteration > 0 ? paramsToWire(modelNames, modelShapes, this.baseline.params) : undefined,
      baselineOptimiser: this.baseline.iteration > 0 ? optimiserToWire(this.baseline.state) : undefined,
      model: this.modelSpec,
      backend: this.backend,
      createdUnixMs: Date.now(),
      trainees: [],
    };
    saveCheckpoint(this.checkpointPath, checkpoint);
    const iteration = this.phase === 'baseline' ? this.baseline.iteration : this.theta.iteration;
    this.record({ type: 'checkpoint', path: this.checkpointPath, iteration, phase: this.phase });
    this.emit({ event: { $case: 'checkpoint', checkpoint: { path: this.checkpointPath, iteration, phase: this.phase } } });
  }
}

function meanColumn0(t: { shape: number[]; data: Uint8Array }): number {
  const [rows, cols] = t.shape;
  const v = new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
  let s = 0;
  for (let r = 0; r < rows; r++) s += v[r * cols];
  return s / rows;
}
