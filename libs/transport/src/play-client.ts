import * as grpc from '@grpc/grpc-js';
import { AgentServiceClient, StepType, type PlayRequest, type PlayResponse } from '@chameleon/proto';
import { toWire } from '@chameleon/tensor';
import { fromServiceError } from './status';

/**
 * A lockstep Play client for tests and the load benchmark: send one message, await the
 * answer(s) it implies.
 */
export class PlayClient {
  private readonly call: grpc.ClientDuplexStream<PlayRequest, PlayResponse>;
  private readonly inbox: PlayResponse[] = [];
  private waiters: Array<() => void> = [];
  ended = false;
  error?: { code: string; message: string };

  constructor(client: AgentServiceClient, metadata = new grpc.Metadata()) {
    this.call = client.play(metadata);
    this.call.on('data', (m: PlayResponse) => {
      this.inbox.push(m);
      this.wake();
    });
    this.call.on('error', (e) => {
      this.error = fromServiceError(e, 'Play');
      this.ended = true;
      this.wake();
    });
    this.call.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** The next server message (or undefined when the stream ended). */
  async next(): Promise<PlayResponse | undefined> {
    while (!this.inbox.length && !this.ended) await new Promise<void>((r) => this.waiters.push(r));
    return this.inbox.shift();
  }

  send(m: PlayRequest['message']): void {
    this.call.write({ message: m });
  }

  async join(agent: string, opponentId = 'test', episodesPerRound = 1): Promise<PlayResponse | undefined> {
    this.send({ $case: 'join', join: { agent, opponentId, episodesPerRound, seed: 1 } });
    return this.next();
  }

  async observe(step: number, obs: Float32Array, stepType: StepType, reward = 0, discount = 1): Promise<PlayResponse | undefined> {
    this.send({ $case: 'observe', observe: { step, stepType, observation: toWire({ dtype: 'float32', shape: [obs.length], data: obs }), reward, discount } });
    return this.next();
  }

  async endRound(round: number, outcomes: number[] = []): Promise<PlayResponse | undefined> {
    this.send({ $case: 'endRound', endRound: { round, outcomes } });
    return this.next();
  }

  close(): void {
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }
}
