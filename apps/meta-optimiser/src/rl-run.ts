import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChameleonError } from '@chameleon/core';
import type { RlRunConfig } from '@chameleon/config';
import type { Checkpoint, Parameters, PolicyAdaptation, PolicySpec, StreamRolloutsRequest, TaskSpec } from '@chameleon/proto';
import { Split } from '@chameleon/proto';
import { paramsFromWire, paramsToWire, paramValues } from '@chameleon/tensor';
import { ATTR, SPAN, withSpan } from '@chameleon/telemetry';
import { collectWithLearnerAct, episodesToBatches, meanReturns, policyEvaluationToJson, type Episode } from '@chameleon/transport';
import { CHECKPOINT_FORMAT_VERSION } from '@chameleon/transport';
import { RunBase, SERVICE, dataSeed, type IterationResult, type RunBaseParts, type TrainingPhase } from './run-base';

/** What the run needs of a policy plugin: its parameters' names and shapes, and an initialiser. */
export interface PolicyShape {
  readonly spec: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>;
  init(seed: number): Float32Array[];
}

export interface RlRunParts extends RunBaseParts {
  readonly config: RlRunConfig;
  readonly environment: string;
  readonly policy: PolicyShape;
  readonly policySpec: PolicySpec;
  /** The oracle's policy (observations end with the task parameters). */
  readonly oracle?: { policy: PolicyShape; spec: PolicySpec };
  readonly obsSize: number;
  readonly actSize: number;
  /** Episode length used for every rollout. */
  readonly horizon: number;
  readonly resume?: Checkpoint;
}

interface PolicyTrainee {
  readonly name: string;
  params: Float32Array[];
  iteration: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * Meta-RL (MAML with policy gradients and a TRPO meta-step, Finn et al. 2017). Per
 * iteration: tasks; rollouts with theta streamed from the simulators; the learner adapts a
 * policy per task; rollouts with the adapted policies; the learner's meta-step. Then the
 * multi-task "pretrained" baseline and the task-observing oracle, and the evaluation. With
 * `meta.taskPairs` the post-update rollouts run on T_{i+1} of consecutive pairs (T_i, T_{i+1})
 * (continuous adaptation, Al-Shedivat et al. 2018).
 */
export class RlRun extends RunBase {
  declare readonly config: RlRunConfig;
  private readonly parts: RlRunParts;
  private theta: PolicyTrainee;
  private pretrained: PolicyTrainee;
  private oracle?: PolicyTrainee;
  private readonly trainingPhases: TrainingPhase[];

  constructor(parts: RlRunParts) {
    super(parts);
    this.parts = parts;
    const seed = this.config.seed;
    this.theta = { name: 'theta', params: parts.policy.init(seed), iteration: 0 };
    this.pretrained = { name: 'pretrained', params: parts.policy.init(seed), iteration: 0 };
    if (parts.oracle) this.oracle = { name: 'oracle', params: parts.oracle.policy.init(seed), iteration: 0 };
    const b = this.config.baseline;
    this.trainingPhases = [
      { name: 'meta-train', total: this.config.meta.iterations, iteration: () => this.theta.iteration, iterate: (i, timed) => this.metaIteration(i, timed) },
      { name: 'baseline', total: b.iterations, iteration: () => this.pretrained.iteration, iterate: (i, timed) => this.multiTaskIteration(this.pretrained, i, timed) },
      ...(this.oracle ? [{ name: 'oracle', total: b.oracleIterations, iteration: () => this.oracle!.iteration, iterate: (i: number, timed: Timed) => this.multiTaskIteration(this.oracle!, i, timed) }] : []),
    ];
    if (parts.resume) this.restore(parts.resume);
    this.phase = this.currentPhase();
  }

  protected phases(): TrainingPhase[] {
    return this.trainingPhases;
  }

  protected evaluationEnabled(): boolean {
    return this.config.evaluation.enabled;
  }

  private names(oracle = false) {
    return (oracle ? this.parts.oracle!.policy : this.parts.policy).spec.map((p) => p.name);
  }

  private wire(t: PolicyTrainee): Parameters {
    const p = (t === this.oracle ? this.parts.oracle!.policy : this.parts.policy).spec;
    return paramsToWire(p.map((x) => x.name), p.map((x) => [...x.shape]), t.params);
  }

  private restore(c: Checkpoint): void {
    this.theta = { name: 'theta', params: paramValues(paramsFromWire(c.params, 'checkpoint.params'), this.names()), iteration: c.iteration };
    if (c.baselineParams?.tensors.length) this.pretrained = { name: 'pretrained', params: paramValues(paramsFromWire(c.baselineParams, 'checkpoint.baseline_params'), this.names()), iteration: c.baselineIteration };
    const o = c.trainees.find((t) => t.name === 'oracle');
    if (o && this.oracle) this.oracle = { name: 'oracle', params: paramValues(paramsFromWire(o.params, 'checkpoint.trainees.oracle'), this.names(true)), iteration: o.iteration };
    this.log(`run ${this.id}: resuming at ${this.currentPhase()} (meta-train ${this.theta.iteration})`);
  }

  private adaptation(): PolicyAdaptation {
    const a = this.config.inner;
    return { steps: a.steps, learningRate: a.learningRate, discount: a.discount, gaeLambda: a.gaeLambda };
  }

  private rolloutRequest(tasks: TaskSpec[], policyParams: Parameters[], seed: number, oracle = false): StreamRolloutsRequest {
    const c = this.config;
    const E = c.meta.episodesPerTask;
    return {
      environment: this.parts.environment,
      environmentConfig: c.environment.config,
      policy: oracle ? this.parts.oracle!.spec : this.parts.policySpec,
      policyParams,
      tasks,
      episodes: tasks.flatMap((_, t) => Array.from({ length: E }, (_x, e) => ({ task: t, episode: e }))),
      horizon: this.parts.horizon,
      seed,
      chunkSteps: c.rollouts.chunkSteps,
      deterministic: false,
      parallelWorlds: c.rollouts.parallelWorlds,
      observeTask: oracle,
    };
  }

  /** Rollouts through the configured inference path. */
  private collect(req: StreamRolloutsRequest) {
    return this.config.rollouts.inference === 'learner' && !req.observeTask ? collectWithLearnerAct(this.peers, req) : this.peers.rollouts(req);
  }

  private sampleTasks(i: number, timed: Timed): Promise<TaskSpec[]> {
    const c = this.config;
    return timed(SPAN.SAMPLE_TASKS, () => this.peers.sampleTasks({ family: c.task.family, familyConfig: c.task.config, split: Split.SPLIT_TRAIN, seed: c.seed, startIndex: i * c.meta.batchSize, count: c.meta.batchSize }));
  }

  /**
   * The tasks of iteration i's pre- and post-update rollouts: the same tasks (MAML), or with
   * `meta.taskPairs` the T_i and T_{i+1} of consecutive pairs (continuous adaptation).
   */
  private async sampleMetaTasks(i: number, timed: Timed): Promise<{ pre: TaskSpec[]; post: TaskSpec[] }> {
    const c = this.config;
    if (!c.meta.taskPairs) {
      const tasks = await this.sampleTasks(i, timed);
      return { pre: tasks, post: tasks };
    }
    const pairs = await timed(SPAN.SAMPLE_TASKS, () => this.peers.sampleTaskPairs({ family: c.task.family, familyConfig: c.task.config, split: Split.SPLIT_TRAIN, seed: c.seed, startIndex: i * c.meta.batchSize, count: c.meta.batchSize }));
    if (pairs.length !== c.meta.batchSize || pairs.some((p) => !p.current || !p.next)) throw new ChameleonError('INTERNAL', `task-sampler returned ${pairs.length} pairs, some incomplete; asked for ${c.meta.batchSize}`);
    return { pre: pairs.map((p) => p.current as TaskSpec), post: pairs.map((p) => p.next as TaskSpec) };
  }

  private batches(episodes: Map<string, Episode>, tasks: number, oracle = false) {
    const obs = this.parts.obsSize + (oracle ? this.oracleFeatures() : 0);
    return episodesToBatches(episodes, tasks, this.config.meta.episodesPerTask, this.parts.horizon, obs, this.parts.actSize);
  }

  private oracleFeatures(): number {
    const o = this.parts.oracle!.policy.spec[0];
    return o.shape[0] - this.parts.obsSize;
  }

  /**
   * One meta-iteration: theta's rollouts on the pre tasks, the learner's adaptation on them,
   * the adapted policies' rollouts on the post tasks (the same tasks for MAML, T_{i+1} with
   * `meta.taskPairs`), the learner's meta-step.
   */
  private async metaIteration(i: number, timed: Timed): Promise<IterationResult> {
    const c = this.config;
    const { pre: tasks, post: postTasks } = await this.sampleMetaTasks(i, timed);
    const pre = await timed('rollouts_pre', () => this.collect(this.rolloutRequest(tasks, [this.wire(this.theta)], dataSeed(c.seed, 'pre', i))));
    const preBatches = this.batches(pre.episodes, tasks.length);
    const adapted = await timed('adapt', () => this.peers.adaptPolicy({ policy: this.parts.policySpec, params: this.wire(this.theta), trajectories: preBatches, adaptation: this.adaptation(), taskParams: [] }));
    const post = await timed('rollouts_post', () => this.collect(this.rolloutRequest(postTasks, adapted.adapted, dataSeed(c.seed, 'post', i))));
    const step = await timed(SPAN.META_GRADIENT, () =>
      this.peers.policyMetaStep({
        algorithm: c.algorithm.name,
        algorithmConfig: c.algorithm.config,
        policy: this.parts.policySpec,
        params: this.wire(this.theta),
        pre: preBatches,
        post: this.batches(post.episodes, tasks.length),
        adaptation: this.adaptation(),
      }),
    );
    await timed(SPAN.META_UPDATE, () => {
      this.theta.params = paramValues(paramsFromWire(step.params, 'params'), this.names());
      this.theta.iteration = i + 1;
    });
    const preReturn = mean(meanReturns(pre.episodes, tasks.length));
    const postReturn = mean(meanReturns(post.episodes, tasks.length));
    return {
      metaLoss: -postReturn,
      preAdaptationLoss: -preReturn,
      preAdaptationReturn: preReturn,
      postAdaptationReturn: postReturn,
      extra: { rollouts: { pre: { episodes: pre.episodes.size, ...pre.stats }, post: { episodes: post.episodes.size, ...post.stats } }, kl: step.kl, accepted: step.accepted },
    };
  }

  /** Plain TRPO on a batch of tasks (the pretrained baseline, or the oracle seeing its task). */
  private async multiTaskIteration(t: PolicyTrainee, i: number, timed: Timed): Promise<IterationResult> {
    const oracle = t === this.oracle;
    const c = this.config;
    const tasks = await this.sampleTasks(i, timed);
    const pre = await timed('rollouts_pre', () => this.collect(this.rolloutRequest(tasks, [this.wire(t)], dataSeed(c.seed, t.name, i), oracle)));
    const step = await timed(SPAN.META_GRADIENT, () =>
      this.peers.policyMetaStep({
        algorithm: 'trpo',
        algorithmConfig: c.algorithm.config,
        policy: oracle ? this.parts.oracle!.spec : this.parts.policySpec,
        params: this.wire(t),
        pre: this.batches(pre.episodes, tasks.length, oracle),
        post: [],
        adaptation: this.adaptation(),
      }),
    );
    t.params = paramValues(paramsFromWire(step.params, 'params'), this.names(oracle));
    t.iteration = i + 1;
    const r = mean(meanReturns(pre.episodes, tasks.length));
    return { metaLoss: -r, preAdaptationLoss: -r, preAdaptationReturn: r, postAdaptationReturn: r, extra: { rollouts: { pre: { episodes: pre.episodes.size, ...pre.stats } }, kl: step.kl, accepted: step.accepted } };
  }

  protected async finalEvaluation(): Promise<void> {
    const c = this.config;
    const e = c.evaluation;
    const candidates = [{ name: c.algorithm.name, params: this.wire(this.theta), policy: undefined, environmentConfig: undefined, adapt: true, observeTask: false }];
    if (this.pretrained.iteration > 0) candidates.push({ name: 'pretrained', params: this.wire(this.pretrained), policy: undefined, environmentConfig: undefined, adapt: true, observeTask: false });
    if (e.randomInit) {
      const p = this.parts.policy.spec;
      candidates.push({ name: 'random-init', params: paramsToWire(p.map((x) => x.name), p.map((x) => [...x.shape]), this.parts.policy.init(e.seed ^ 0x5eed)), policy: undefined, environmentConfig: undefined, adapt: true, observeTask: false });
    }
    if (this.oracle && this.oracle.iteration > 0) candidates.push({ name: 'oracle', params: this.wire(this.oracle), policy: this.parts.oracle!.spec as never, environmentConfig: undefined, adapt: false, observeTask: true });
    const req = {
      family: c.task.family,
      familyConfig: c.task.config,
      environment: this.parts.environment,
      environmentConfig: c.environment.config,
      policy: this.parts.policySpec,
      candidates,
      numTasks: e.tasks,
      episodesPerTask: e.episodesPerTask,
      horizon: this.parts.horizon,
      maxSteps: e.steps,
      adaptation: this.adaptation(),
      seed: e.seed,
      split: Split.SPLIT_TEST,
      numPaths: e.paths,
    };
    this.log(`run ${this.id}: evaluating on ${e.tasks} held-out tasks, ${e.steps} adaptation steps`);
    const result = await withSpan(SPAN.EVALUATE, { [ATTR.SERVICE]: SERVICE, [ATTR.RUN_ID]: this.id }, () => this.peers.evaluatePolicy(req), { root: true });
    writeFileSync(join(this.outDir, 'eval.json'), `${JSON.stringify(policyEvaluationToJson(result, req), null, 1)}\n`);
    this.emit({ event: { $case: 'validation', validation: { iteration: this.theta.iteration, result: { results: result.results, numTasks: result.numTasks, backend: result.backend, examples: [], seconds: result.seconds }, final: true } } });
  }

  protected checkpointMessage(): Checkpoint {
    return {
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      runId: this.id,
      config: this.config as unknown as Record<string, unknown>,
      phase: this.phase,
      iteration: this.theta.iteration,
      params: this.wire(this.theta),
      optimiser: undefined,
      baselineIteration: this.pretrained.iteration,
      baselineParams: this.pretrained.iteration > 0 ? this.wire(this.pretrained) : undefined,
      baselineOptimiser: undefined,
      model: { architecture: this.parts.policySpec.architecture, config: this.parts.policySpec.config },
      backend: this.backend,
      createdUnixMs: Date.now(),
      trainees: this.oracle && this.oracle.iteration > 0 ? [{ name: 'oracle', params: this.wire(this.oracle), optimiser: undefined, iteration: this.oracle.iteration }] : [],
    };
  }
}

type Timed = <T>(name: string, fn: () => Promise<T> | T) => Promise<T>;
