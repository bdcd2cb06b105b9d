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
      await sleep(backoff * (0.5 + Math.random()));
      backoff *= 2;
    }
  }
}

/** Channel options shared by every Chameleon client. */
export function channelOptions(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.enable_retries': 0,
  };
}

export type ClientConstructor<C extends grpc.Client> = new (address: string, credentials: grpc.ChannelCredentials, options?: Partial<grpc.ChannelOptions>) => C;

/** A client of a generated service at `address` (insecure unless credentials are given). */
export function connect<C extends grpc.Client>(Ctor: ClientConstructor<C>, address: string, credentials?: grpc.ChannelCredentials, maxMessageBytes?: number): C {
  return new Ctor(address, credentials ?? grpc.credentials.createInsecure(), channelOptions(maxMessageBytes));
}

/** Waits until a server answers, or throws UNAVAILABLE after `timeoutMs`. */
export function waitForReady(client: grpc.Client, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + timeoutMs, (e) => (e ? reject(fromServiceError({ code: status.UNAVAILABLE, details: e.message }, 'connect')) : resolve())),
  );
}
