import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '@chameleon/config';
import { initialState, optimiserStep, type MetaAlgorithm, type OptimiserConfig, type OptimiserState } from '@chameleon/meta';
import type { FunctionalModel } from '@chameleon/nn';
import { Split, type Candidate, type Checkpoint, type ModelSpec } from '@chameleon/proto';
import { paramsFromWire, paramsToWire, paramValues } from '@chameleon/tensor';
import { ATTR, SPAN, withSpan } from '@chameleon/telemetry';
import { evaluationToJson } from '@chameleon/transport';
import { CHECKPOINT_FORMAT_VERSION, optimiserFromWire, optimiserToWire } from '@chameleon/transport';
import { RunBase, SERVICE, dataSeed, type RunBaseParts, type TrainingPhase } from './run-base';

/** One trainable parameter set with its optimiser: theta, or the pretrained baseline. */
interface Trainee {
  params: Float32Array[];
  state: OptimiserState;
  iteration: number;
}

export interface SupervisedRunParts extends RunBaseParts {
  readonly config: RunConfig;
  readonly model: FunctionalModel;
  readonly algorithm: MetaAlgorithm;
  /** A checkpoint to continue from. */
  readonly resume?: Checkpoint;
}

/**
 * Supervised meta-learning: meta-train theta (MAML, FOMAML, Reptile, ...), train the
 * pretrained baseline, evaluate on held-out tasks. Every iteration is one trace across the
 * task sampler, simulator, learner (and evaluator when validating).
 */
export class SupervisedRun extends RunBase {
  declare readonly config: RunConfig;
  private readonly model: FunctionalModel;
  private readonly algorithm: MetaAlgorithm;
  private readonly names: string[];
  private readonly shapes: number[][];
  private readonly modelSpec: ModelSpec;
  private theta: Trainee;
  private baseline: Trainee;
  private readonly trainingPhases: TrainingPhase[];

  constructor(parts: SupervisedRunParts) {
    super(parts);
    this.model = parts.model;
    this.algorithm = parts.algorithm;
    const spec = this.algorithm.paramSpec(this.model);
    this.names = spec.map((p) => p.name);
    this.shapes = spec.map((p) => [...p.shape]);
    this.modelSpec = { architecture: this.config.model.architecture, config: this.config.model.config };
    const fresh = (init: Float32Array[], opt: OptimiserConfig, names: string[]): Trainee => ({ params: init, state: initialState(opt, names, init.map((v) => v.length)), iteration: 0 });
    this.theta = fresh(this.algorithm.init(this.model, this.config.seed), this.config.meta.optimiser, this.names);
    this.baseline = fresh(this.model.init(this.config.seed), this.config.baseline.optimiser, this.modelNames());
    this.trainingPhases = [
      { name: 'meta-train', total: this.config.meta.iterations, iteration: () => this.theta.iteration, iterate: (i, timed) => this.iterate('meta-train', i, timed) },
      { name: 'baseline', total: this.config.baseline.iterations, iteration: () => this.baseline.iteration, iterate: (i, timed) => this.iterate('baseline', i, timed) },
    ];
    if (parts.resume) this.restore(parts.resume);
    this.phase = this.currentPhase();
  }

  private modelNames = () => this.model.spec.map((p) => p.name);
  private modelShapes = () => this.model.spec.map((p) => [...p.shape]);

  protected phases(): TrainingPhase[] {
    return this.trainingPhases;
  }

  protected evaluationEnabled(): boolean {
    return this.config.evaluation.enabled;
  }

  private restore(c: Checkpoint): void {
    this.theta = { params: paramValues(paramsFromWire(c.params, 'checkpoint.params'), this.names), state: optimiserFromWire(c.optimiser), iteration: c.iteration };
    if (c.baselineParams && c.baselineParams.tensors.length) {
      this.baseline = { params: paramValues(paramsFromWire(c.baselineParams, 'checkpoint.baseline_params'), this.modelNames()), state: optimiserFromWire(c.baselineOptimiser), iteration: c.baselineIteration };
    }
    this.log(`run ${this.id}: resuming at ${this.currentPhase()} (meta-train ${c.iteration}, baseline ${c.baselineIteration})`);
  }

  /** One meta-iteration: tasks, data, meta-gradient, update (and validation when due). */
  private async iterate(phase: 'meta-train' | 'baseline', i: number, timed: <T>(name: string, fn: () => Promise<T> | T) => Promise<T>) {
    const baseline = phase === 'baseline';
    const trainee = baseline ? this.baseline : this.theta;
    const c = this.config;
    const batchSize = baseline ? (c.baseline.batchSize ?? c.meta.batchSize) : c.meta.batchSize;
    const names = baseline ? this.modelNames() : this.names;
    const shapes = baseline ? this.modelShapes() : this.shapes;
    const tasks = await timed(SPAN.SAMPLE_TASKS, () =>
      this.peers.sampleTasks({ family: c.task.family, familyConfig: c.task.config, split: Split.SPLIT_TRAIN, seed: c.seed, startIndex: i * batchSize, count: batchSize }),
    );
    const batch = await timed(SPAN.FETCH_DATA, () =>
      this.peers.sampleSupervised({ tasks, supportSize: c.data.supportSize, querySize: c.data.querySize, seed: dataSeed(c.seed, phase, i), queryInputs: undefined, sourceConfig: c.environment.config }),
    );
    const res = await timed(SPAN.META_GRADIENT, () =>
      this.peers.metaGradient({
        algorithm: baseline ? 'pretrain' : c.algorithm.name,
        algorithmConfig: baseline ? {} : this.algorithmConfigAt(i),
        model: this.modelSpec,
        params: paramsToWire(names, shapes, trainee.params),
        batch,
        inner: { steps: c.inner.steps, learningRate: c.inner.learningRate },
        loss: 0,
      }),
    );
    await timed(SPAN.META_UPDATE, () => {
      const grads = paramValues(paramsFromWire(res.gradient, 'gradient'), names, 'gradient');
      const next = optimiserStep(baseline ? c.baseline.optimiser : c.meta.optimiser, names, trainee.params, grads, trainee.state);
      trainee.params = next.params;
      trainee.state = next.state;
      trainee.iteration = i + 1;
    });
    if (!baseline && c.validation.every > 0 && (i + 1) % c.validation.every === 0) await timed(SPAN.VALIDATE, () => this.validate(i + 1));
    return { metaLoss: res.metaLoss, preAdaptationLoss: res.supportLosses ? meanColumn0(res.supportLosses) : NaN };
  }

  /**
   * The algorithm's config for meta-iteration i: algorithms with schedules (`usesIteration`,
   * e.g. MAML++'s loss-weight and derivative-order annealing, MR-MAML's noise seeds) get the
   * iteration in their config on every call, so a resumed run continues the same schedule.
   */
  private algorithmConfigAt(i: number): Record<string, unknown> {
    const config = this.config.algorithm.config as Record<string, unknown>;
    return this.algorithm.usesIteration ? { ...config, iteration: i } : config;
  }

  private candidates() {
    const c = this.config;
    // The candidate adapts by its algorithm's own rule, with the run's algorithm config.
    const list: Candidate[] = [{ name: c.algorithm.name, params: paramsToWire(this.names, this.shapes, this.theta.params), algorithm: c.algorithm.name, algorithmConfig: c.algorithm.config }];
    if (c.baseline.iterations > 0 && this.baseline.iteration > 0) list.push({ name: 'pretrained', params: paramsToWire(this.modelNames(), this.modelShapes(), this.baseline.params), algorithm: '', algorithmConfig: undefined });
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
    this.record({ type: 'validation', iteration, results: evaluationToJson(result, req).results });
    this.emit({ event: { $case: 'validation', validation: { iteration, result, final: false } } });
  }

  protected async finalEvaluation(): Promise<void> {
    const e = this.config.evaluation;
    const req = this.evaluationRequest(Split.SPLIT_TEST, e.tasks, e.steps, true);
    this.log(`run ${this.id}: evaluating on ${e.tasks} held-out tasks`);
    const result = await withSpan(SPAN.EVALUATE, { [ATTR.SERVICE]: SERVICE, [ATTR.RUN_ID]: this.id }, () => this.peers.evaluate(req), { root: true });
    writeFileSync(join(this.outDir, 'eval.json'), `${JSON.stringify(evaluationToJson(result, req), null, 1)}\n`);
    this.emit({ event: { $case: 'validation', validation: { iteration: this.theta.iteration, result, final: true } } });
  }

  protected checkpointMessage(): Checkpoint {
    const trained = this.baseline.iteration > 0;
    return {
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      runId: this.id,
      config: this.config as unknown as Record<string, unknown>,
      phase: this.phase,
      iteration: this.theta.iteration,
      params: paramsToWire(this.names, this.shapes, this.theta.params),
      optimiser: optimiserToWire(this.theta.state),
      baselineIteration: this.baseline.iteration,
      baselineParams: trained ? paramsToWire(this.modelNames(), this.modelShapes(), this.baseline.params) : undefined,
      baselineOptimiser: trained ? optimiserToWire(this.baseline.state) : undefined,
      model: this.modelSpec,
      backend: this.backend,
      createdUnixMs: Date.now(),
      trainees: [],
    };
  }
}

function meanColumn0(t: { shape: number[]; data: Uint8Array }): number {
  const [rows, cols] = t.shape;
  const v = new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
  let s = 0;
  for (let r = 0; r < rows; r++) s += v[r * cols];
  return s / rows;
}
