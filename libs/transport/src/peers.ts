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
  type SampleTaskPairsRequest,
  type SampleTasksRequest,
  type SupervisedBatch,
  type TaskPair,
  type TaskSpec,
} from '@chameleon/proto';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, channelOptions, connect, unaryCall, type CallOptions } from './client';
import { expandAddresses, resolveHost, type ReplicaTarget, type ResolveHost } from './replicas';
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
 * How calls that find a peer UNAVAILABLE are retried. Every retried call is idempotent: task
 * sampling, data, meta-gradients and adaptation are pure functions of their request (seeded),
 * and calls with side effects (CreateWorlds) are never retried here.
 */
export interface PeerRetry {
  /** Further attempts after UNAVAILABLE. */
  retries: number;
  /** First backoff, doubled each attempt, with jitter. */
  backoffMs: number;
  /** Ceiling of one backoff. */
  maxBackoffMs: number;
}

/** About 10 s of retrying in all: long enough to ride out a restarted pod or a rolling update. */
export const DEFAULT_PEER_RETRY: PeerRetry = { retries: 6, backoffMs: 200, maxBackoffMs: 5_000 };

export interface PeersOptions {
  credentials?: grpc.ChannelCredentials;
  maxMessageBytes?: number;
  deadlines?: Partial<PeerDeadlines>;
  metadata?: () => grpc.Metadata;
  retry?: Partial<PeerRetry>;
  /**
   * How often simulator names are re-resolved to find added or removed replicas; 0 never
   * resolves (each configured address is one replica). Default 10 s.
   */
  dnsRefreshMs?: number;
  /** Name resolution (tests inject one). */
  resolve?: ResolveHost;
}

/**
 * Typed, promise-based access to the other services, with a deadline on every call and
 * retries with backoff on UNAVAILABLE. Environment simulators are used round robin; a call
 * that finds a replica UNAVAILABLE moves on to the next one, so a lost simulator costs a
 * retry, not the iteration. A simulator name that resolves to several addresses (a headless
 * service, `compose --scale`) counts as one replica per address, re-resolved every
 * `dnsRefreshMs`, so replicas added by an autoscaler are used.
 */
export class Peers {
  readonly taskSampler: TaskSamplerServiceClient;
  /** The simulator replicas in use now (changes when names re-resolve). */
  simulators: EnvironmentSimulatorServiceClient[];
  readonly learner: LearnerServiceClient;
  readonly evaluator?: EvaluatorServiceClient;
  private next = 0;
  private readonly deadlines: PeerDeadlines;
  private readonly retry: PeerRetry;
  private readonly metadata?: () => grpc.Metadata;
  private readonly simulatorClients = new Map<string, EnvironmentSimulatorServiceClient>();
  private simulatorTargets: ReplicaTarget[];
  private resolvedAt = 0;

  constructor(
    readonly addresses: PeerAddresses,
    private readonly options: PeersOptions = {},
  ) {
    // Stateless services may sit behind one name with many addresses: balance over them.
    const c = <T extends grpc.Client>(Ctor: new (a: string, c: grpc.ChannelCredentials, o?: Partial<grpc.ChannelOptions>) => T, a: string) =>
      connect(Ctor, a, options.credentials, options.maxMessageBytes, true);
    this.taskSampler = c(TaskSamplerServiceClient, addresses.taskSampler);
    this.simulatorTargets = addresses.simulators.map((address) => ({ address }));
    this.simulators = this.simulatorTargets.map((t) => this.simulatorClient(t));
    this.learner = c(LearnerServiceClient, addresses.learner);
    this.evaluator = addresses.evaluator ? c(EvaluatorServiceClient, addresses.evaluator) : undefined;
    this.deadlines = { ...DEFAULT_DEADLINES, ...options.deadlines };
    this.retry = { ...DEFAULT_PEER_RETRY, ...options.retry };
    this.metadata = options.metadata;
  }

  /** Simulator channels stick to one address: world sessions live on one replica. */
  private simulatorClient(t: ReplicaTarget): EnvironmentSimulatorServiceClient {
    let client = this.simulatorClients.get(t.address);
    if (!client) {
      const authority = t.authority ? { 'grpc.ssl_target_name_override': t.authority, 'grpc.default_authority': t.authority } : {};
      client = new EnvironmentSimulatorServiceClient(t.address, this.options.credentials ?? grpc.credentials.createInsecure(), { ...channelOptions(this.options.maxMessageBytes), ...authority });
      this.simulatorClients.set(t.address, client);
    }
    return client;
  }

  /** Addresses of the simulator replicas in use now. */
  simulatorAddresses(): string[] {
    return this.simulatorTargets.map((t) => t.address);
  }

  /**
   * Re-resolves simulator names (at most every `dnsRefreshMs`, or now with `force`) and
   * updates the replica list. Replicas that disappear keep their channels until close(),
   * so calls in flight on them finish.
   */
  async refreshSimulators(force = false): Promise<void> {
    const every = this.options.dnsRefreshMs ?? 10_000;
    if (every <= 0 || (!force && Date.now() - this.resolvedAt < every)) return;
    this.resolvedAt = Date.now();
    const targets = await expandAddresses(this.addresses.simulators, this.options.resolve ?? resolveHost);
    if (targets.map((t) => t.address).join() === this.simulatorAddresses().join()) return;
    this.simulatorTargets = targets;
    this.simulators = targets.map((t) => this.simulatorClient(t));
    this.coolDown.clear();
  }

  private opts(deadlineMs: number, retries = this.retry.retries): CallOptions {
    return { deadlineMs, retries, backoffMs: this.retry.backoffMs, maxBackoffMs: this.retry.maxBackoffMs, metadata: this.metadata?.() };
  }

  async sampleTasks(req: SampleTasksRequest): Promise<TaskSpec[]> {
    const res = await unaryCall(this.taskSampler, this.taskSampler.sampleTasks, req, 'task-sampler SampleTasks', this.opts(this.deadlines.sampleTasks));
    return res.tasks;
  }

  /** Consecutive pairs (T_i, T_{i+1}) of a sequence family, for continuous adaptation. */
  async sampleTaskPairs(req: SampleTaskPairsRequest): Promise<TaskPair[]> {
    const res = await unaryCall(this.taskSampler, this.taskSampler.sampleTaskPairs, req, 'task-sampler SampleTaskPairs', this.opts(this.deadlines.sampleTasks));
    return res.pairs;
  }

  /**
   * Round robin over simulators, failing over to the next replica on UNAVAILABLE; when every
   * replica is down, waits (backoff), re-resolves and tries them all again, up to
   * `retry.retries` rounds.
   */
  async sampleSupervised(req: SampleSupervisedRequest): Promise<SupervisedBatch> {
    await this.refreshSimulators();
    let last: unknown;
    let backoff = this.retry.backoffMs;
    for (let round = 0; round <= this.retry.retries; round++) {
      if (round > 0) {
        await sleep(backoffDelay(backoff, this.retry.maxBackoffMs));
        backoff *= 2;
        await this.refreshSimulators(true);
      }
      for (let tried = 0; tried < this.simulators.length; tried++) {
        const sim = this.simulators[this.next++ % this.simulators.length];
        try {
          const res = await unaryCall(sim, sim.sampleSupervised, req, 'environment-simulator SampleSupervised', this.opts(this.deadlines.sampleData, 0));
          if (!res.batch) throw new ChameleonError('INTERNAL', 'environment-simulator returned no batch');
          return res.batch;
        } catch (e) {
          last = e;
          if (!(e instanceof ChameleonError) || e.code !== 'UNAVAILABLE') throw e;
        }
      }
    }
    throw last;
  }

  async listEnvironments(): Promise<ListEnvironmentsResponse> {
    await this.refreshSimulators();
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
    await this.refreshSimulators();
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
    for (const c of [this.taskSampler, ...this.simulatorClients.values(), this.learner, ...(this.evaluator ? [this.evaluator] : [])]) c.close();
  }
}
