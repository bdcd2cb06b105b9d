import * as grpc from '@grpc/grpc-js';
import { ChameleonError } from '@chameleon/core';
import {
  EnvironmentSimulatorServiceClient,
  EvaluatorServiceClient,
  LearnerServiceClient,
  TaskSamplerServiceClient,
  type ActRequest,
  type ActResponse,
  type AdaptPolicyRequest,
  type AdaptPolicyResponse,
  type AdaptRequest,
  type AdaptResponse,
  type DescribeResponse,
  type EvaluatePolicyRequest,
  type EvaluatePolicyResponse,
  type EvaluateRequest,
  type EvaluateResponse,
  type ListEnvironmentsResponse,
  type MetaGradientRequest,
  type MetaGradientResponse,
  type PolicyMetaStepRequest,
  type PolicyMetaStepResponse,
  type StreamRolloutsRequest,
  type SampleSupervisedRequest,
  type SampleTasksRequest,
  type SupervisedBatch,
  type TaskSpec,
} from '@chameleon/proto';
import { connect, unaryCall, type CallOptions } from './client';
import { collectRollouts } from './rollouts';

/** Addresses of the services a component talks to. */
export interface PeerAddresses {
  readonly taskSampler: string;
  readonly simulators: readonly string[];
  readonly learner: string;
  readonly evaluator?: string;
}

/** Per-call deadlines in milliseconds. */
export interface PeerDeadlines {
  sampleTasks: number;
  sampleData: number;
  metaGradient: number;
  adapt: number;
  evaluate: number;
}

const DEFAULT_DEADLINES: PeerDeadlines = { sampleTasks: 30_000, sampleData: 60_000, metaGradient: 300_000, adapt: 600_000, evaluate: 6 * 3600_000 };

/**
 * Typed, promise-based access to the other services. Environment simulators are used round
 * robin; a call that finds a replica UNAVAILABLE moves on to the next one, so a lost
 * simulator costs a retry, not the iteration.
 */
export class Peers {
  readonly taskSampler: TaskSamplerServiceClient;
  readonly simulators: EnvironmentSimulatorServiceClient[];
  readonly learner: LearnerServiceClient;
  readonly evaluator?: EvaluatorServiceClient;
  private next = 0;
  private readonly deadlines: PeerDeadlines;

  constructor(
    readonly addresses: PeerAddresses,
    options: { credentials?: grpc.ChannelCredentials; maxMessageBytes?: number; deadlines?: Partial<PeerDeadlines>; metadata?: () => grpc.Metadata } = {},
  ) {
    const c = <T extends grpc.Client>(Ctor: new (a: string, c: grpc.ChannelCredentials, o?: Partial<grpc.ChannelOptions>) => T, a: string) =>
      connect(Ctor, a, options.credentials, options.maxMessageBytes);
    this.taskSampler = c(TaskSamplerServiceClient, addresses.taskSampler);
    this.simulators = addresses.simulators.map((a) => c(EnvironmentSimulatorServiceClient, a));
    this.learner = c(LearnerServiceClient, addresses.learner);
    this.evaluator = addresses.evaluator ? c(EvaluatorServiceClient, addresses.evaluator) : undefined;
    this.deadlines = { ...DEFAULT_DEADLINES, ...options.deadlines };
    this.metadata = options.metadata;
  }

  private readonly metadata?: () => grpc.Metadata;

  private opts(deadlineMs: number, retries?: number): CallOptions {
    return { deadlineMs, retries, metadata: this.metadata?.() };
  }

  async sampleTasks(req: SampleTasksRequest): Promise<TaskSpec[]> {
    const res = await unaryCall(this.taskSampler, this.taskSampler.sampleTasks, req, 'task-sampler SampleTasks', this.opts(this.deadlines.sampleTasks));
    return res.tasks;
  }

  /** Round robin over simulators, failing over to the next replica on UNAVAILABLE. */
  async sampleSupervised(req: SampleSupervisedRequest): Promise<SupervisedBatch> {
    let last: unknown;
    for (let tried = 0; tried < this.simulators.length; tried++) {
      const sim = this.simulators[this.next++ % this.simulators.length];
      try {
        const res = await unaryCall(sim, sim.sampleSupervised, req, 'environment-simulator SampleSupervised', this.opts(this.deadlines.sampleData, this.simulators.length > 1 ? 0 : 3));
        if (!res.batch) throw new ChameleonError('INTERNAL', 'environment-simulator returned no batch');
        return res.batch;
      } catch (e) {
        last = e;
        if (!(e instanceof ChameleonError) || e.code !== 'UNAVAILABLE') throw e;
      }
    }
    throw last;
  }

  async listEnvironments(): Promise<ListEnvironmentsResponse> {
    const sim = this.simulators[0];
    return unaryCall(sim, sim.listEnvironments, {}, 'environment-simulator ListEnvironments', this.opts(this.deadlines.sampleTasks));
  }

  metaGradient(req: MetaGradientRequest): Promise<MetaGradientResponse> {
    return unaryCall(this.learner, this.learner.metaGradient, req, 'learner MetaGradient', this.opts(this.deadlines.metaGradient));
  }

  adapt(req: AdaptRequest): Promise<AdaptResponse> {
    return unaryCall(this.learner, this.learner.adapt, req, 'learner Adapt', this.opts(this.deadlines.adapt));
  }

  describeLearner(): Promise<DescribeResponse> {
    return unaryCall(this.learner, this.learner.describe, {}, 'learner Describe', this.opts(this.deadlines.sampleTasks));
  }

  act(req: ActRequest): Promise<ActResponse> {
    return unaryCall(this.learner, this.learner.act, req, 'learner Act', this.opts(this.deadlines.sampleTasks));
  }

  adaptPolicy(req: AdaptPolicyRequest): Promise<AdaptPolicyResponse> {
    return unaryCall(this.learner, this.learner.adaptPolicy, req, 'learner AdaptPolicy', this.opts(this.deadlines.metaGradient));
  }

  policyMetaStep(req: PolicyMetaStepRequest): Promise<PolicyMetaStepResponse> {
    return unaryCall(this.learner, this.learner.policyMetaStep, req, 'learner PolicyMetaStep', this.opts(this.deadlines.metaGradient));
  }

  evaluatePolicy(req: EvaluatePolicyRequest): Promise<EvaluatePolicyResponse> {
    if (!this.evaluator) throw new ChameleonError('FAILED_PRECONDITION', 'no evaluator address configured');
    return unaryCall(this.evaluator, this.evaluator.evaluatePolicy, req, 'evaluator EvaluatePolicy', this.opts(this.deadlines.evaluate, 1));
  }

  /** Replicas that failed recently: index -> time until which they are skipped. */
  private readonly coolDown = new Map<number, number>();

  /**
   * Streams rollouts from the simulators (spread over replicas, with failover). A replica
   * that failed is skipped for 30 s, then tried again (it may have been restarted).
   */
  async rollouts(req: StreamRolloutsRequest) {
    const now = Date.now();
    const skip = new Set([...this.coolDown].filter(([, until]) => until > now).map(([r]) => r));
    const result = await collectRollouts(this.simulators, req, { deadlineMs: this.deadlines.adapt, metadata: this.metadata, skip });
    for (const r of result.stats.lost) this.coolDown.set(r, Date.now() + 30_000);
    return result;
  }

  evaluate(req: EvaluateRequest): Promise<EvaluateResponse> {
    if (!this.evaluator) throw new ChameleonError('FAILED_PRECONDITION', 'no evaluator address configured');
    return unaryCall(this.evaluator, this.evaluator.evaluate, req, 'evaluator Evaluate', this.opts(this.deadlines.evaluate, 1));
  }

  close(): void {
    for (const c of [this.taskSampler, ...this.simulators, this.learner, ...(this.evaluator ? [this.evaluator] : [])]) c.close();
  }
}
