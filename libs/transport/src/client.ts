import * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromServiceError, status } from './status';
import { DEFAULT_MAX_MESSAGE_BYTES } from './server';

export interface CallOptions {
  /** Deadline for each attempt. Default 60 s. */
  readonly deadlineMs?: number;
  /** Further attempts after UNAVAILABLE (safe: Chameleon's unary calls are idempotent). Default 3. */
  readonly retries?: number;
  /** First backoff; doubles each retry, with jitter. Default 100 ms. */
  readonly backoffMs?: number;
  /** Ceiling of one backoff. Default 5 s. */
  readonly maxBackoffMs?: number;
  readonly metadata?: grpc.Metadata;
}

type Unary<Req, Res> = (req: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, cb: (e: grpc.ServiceError | null, r: Res) => void) => grpc.ClientUnaryCall;

/**
 * Calls a unary method with a deadline, retrying UNAVAILABLE with exponential backoff.
 * Errors come back as typed ChameleonErrors carrying the server's message.
 *
 * @example
 *   const res = await unaryCall(client, client.sampleTasks, request, 'task-sampler.SampleTasks');
 */
export async function unaryCall<Req, Res>(client: grpc.Client, method: Unary<Req, Res>, req: Req, label: string, options: CallOptions = {}): Promise<Res> {
  const retries = options.retries ?? 3;
  let backoff = options.backoffMs ?? 100;
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<Res>((resolve, reject) => {
        const deadline = Date.now() + (options.deadlineMs ?? 60_000);
        method.call(client, req, options.metadata ?? new grpc.Metadata(), { deadline }, (e, r) => (e ? reject(e) : resolve(r)));
      });
    } catch (e) {
      const code = (e as grpc.ServiceError).code;
      if (code !== status.UNAVAILABLE || attempt >= retries) throw fromServiceError(e, label);
      await sleep(backoffDelay(backoff, options.maxBackoffMs));
      backoff *= 2;
    }
  }
}

/** One backoff: `base` capped at `max` (default 5 s), with ±50 % jitter so clients do not retry in step. */
export function backoffDelay(base: number, max = 5_000): number {
  return Math.min(base, max) * (0.5 + Math.random());
}

/**
 * Channel options shared by every Chameleon client. With `roundRobin`, a name that resolves
 * to several addresses (a Kubernetes service, a scaled compose service) is balanced over all
 * of them; without it the channel sticks to one address, as stateful calls (world sessions)
 * need.
 */
export function channelOptions(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES, roundRobin = false): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.enable_retries': 0,
    ...(roundRobin ? { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) } : {}),
  };
}

export type ClientConstructor<C extends grpc.Client> = new (address: string, credentials: grpc.ChannelCredentials, options?: Partial<grpc.ChannelOptions>) => C;

/** A client of a generated service at `address` (insecure unless credentials are given). */
export function connect<C extends grpc.Client>(Ctor: ClientConstructor<C>, address: string, credentials?: grpc.ChannelCredentials, maxMessageBytes?: number, roundRobin = false): C {
  return new Ctor(address, credentials ?? grpc.credentials.createInsecure(), channelOptions(maxMessageBytes, roundRobin));
}

/** Waits until a server answers, or throws UNAVAILABLE after `timeoutMs`. */
export function waitForReady(client: grpc.Client, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + timeoutMs, (e) => (e ? reject(fromServiceError({ code: status.UNAVAILABLE, details: e.message }, 'connect')) : resolve())),
  );
}
