import { EpisodeRecorder, type Agent, type AgentContext, type AgentFactory, type AgentSession, type EpisodeRecord } from '@chameleon/agents';
import { invalidArgument } from '@chameleon/core';
import type { PluginRegistry } from '@chameleon/plugins';
import { AgentServiceClient, StepType } from '@chameleon/proto';
import { fromWire } from '@chameleon/tensor';
import { bearer, channelCredentials, connect, PlayClient, type TlsFiles } from '@chameleon/transport';

/** One side of a match, local or remote, in lockstep with the environment. */
export interface Player {
  readonly label: string;
  /** The observation of a step; returns the action (undefined after LAST). */
  observe(obs: Float32Array, stepType: number, reward: number, discount: number): Promise<Float32Array | undefined>;
  /** The round is over: adapt; returns the adaptation time in ms. */
  endRound(round: number, outcomes: number[]): Promise<number>;
  close(): void;
}

/** An agent plugin in this process, recorded the way the agent-server records it. */
export class LocalPlayer implements Player {
  private readonly session: AgentSession;
  private readonly recorder: EpisodeRecorder;
  private round: EpisodeRecord[] = [];

  constructor(readonly label: string, readonly agent: Agent, seed: number) {
    this.session = agent.session({ opponentId: 'local', seed });
    this.recorder = new EpisodeRecorder(agent.observationSize, agent.actionSize);
  }

  async observe(obs: Float32Array, stepType: number, reward: number, discount: number) {
    if (stepType === StepType.STEP_TYPE_FIRST) this.recorder.take();
    else this.recorder.rewarded(reward, discount);
    if (stepType === StepType.STEP_TYPE_LAST) {
      this.session.lastStep?.(reward);
      this.round.push(this.recorder.take());
      return undefined;
    }
    const first = stepType === StepType.STEP_TYPE_FIRST;
    const { action, logProb } = this.session.act(obs, { reward: first ? 0 : reward, first });
    this.recorder.acted(obs, action, logProb);
    return action;
  }

  async endRound(_round: number, outcomes: number[]) {
    const t0 = performance.now();
    await this.session.endRound(this.round.map((e, i) => ({ ...e, outcome: outcomes[i] })));
    this.round = [];
    return performance.now() - t0;
  }

  close() {
    this.session.dispose();
  }
}

/** An agent served by a (possibly remote) agent-server. */
export class RemotePlayer implements Player {
  private step = 0;

  private constructor(readonly label: string, private readonly client: AgentServiceClient, private readonly play: PlayClient) {}

  static async join(label: string, address: string, agent: string, options: { token?: string; tls?: TlsFiles; seed: number; episodesPerRound: number }): Promise<RemotePlayer> {
    const client = connect(AgentServiceClient, address, channelCredentials(options.tls));
    const play = new PlayClient(client, options.token ? bearer(options.token) : undefined);
    const r = await play.join(agent, 'chameleon-play', options.episodesPerRound);
    if (r?.message?.$case !== 'joined') throw play.error ?? invalidArgument('--opponent', `${address} did not accept the match`);
    return new RemotePlayer(label, client, play);
  }

  async observe(obs: Float32Array, stepType: number, reward: number, discount: number) {
    const r = await this.play.observe(this.step++, obs, stepType, reward, discount);
    if (!r) throw this.play.error ?? invalidArgument('--opponent', `${this.label} ended the match`);
    if (r.message?.$case === 'error') throw invalidArgument('--opponent', `${this.label}: ${r.message.error.message}`);
    if (r.message?.$case !== 'act' || !r.message.act.action) return undefined;
    return fromWire(r.message.act.action, 'action', ['float32'] as const).data;
  }

  async endRound(round: number, outcomes: number[]) {
    const r = await this.play.endRound(round, outcomes);
    return r?.message?.$case === 'adapted' ? r.message.adapted.adaptationMs : NaN;
  }

  close() {
    this.play.close();
    this.client.close();
  }
}

/**
 * A player from a spec: `host:port/agent` (an agent-server), or `plugin[:checkpoint]` (an
 * agent plugin in this process, e.g. `meta-adapter:runs/x/checkpoint.ckpt`, `scripted-sumo`).
 */
export async function makePlayer(
  spec: string,
  flag: string,
  registry: PluginRegistry,
  ctx: AgentContext,
  options: { token?: string; tls?: TlsFiles; seed: number; episodesPerRound: number },
): Promise<Player> {
  const remote = /^(?:grpc:\/\/)?([A-Za-z0-9.-]+:\d{1,5})\/(.+)$/.exec(spec);
  if (remote) return RemotePlayer.join(spec, remote[1], remote[2], options);
  const [plugin, ...rest] = spec.split(':');
  const checkpoint = rest.join(':');
  const factory = registry.create<AgentFactory>('agent', plugin, checkpoint ? { checkpoint } : {}, flag);
  return new LocalPlayer(spec, factory(ctx), options.seed);
}
