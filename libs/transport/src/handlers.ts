import type * as grpc from '@grpc/grpc-js';
import { deadlineExceeded, cancelled as cancelledError } from '@chameleon/core';
import { toServiceError } from './status';

/** What a handler may ask about its call. */
export interface CallContext {
  readonly metadata: grpc.Metadata;
  readonly peer: string;
  /** Milliseconds left before the client's deadline (Infinity when none). */
  remainingMs(): number;
  /** True once the client cancelled or went away. */
  cancelled(): boolean;
  /**
   * Throws DEADLINE_EXCEEDED or CANCELLED when the work is no longer wanted. Long handlers
   * call it between chunks: compute is synchronous, so timers alone cannot stop it.
   */
  throwIfDone(): void;
}

function context(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): CallContext {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  const remainingMs = () => (Number.isFinite(deadlineMs) && deadlineMs > 0 ? deadlineMs - Date.now() : Infinity);
  return {
    metadata: call.metadata,
    peer: call.getPeer(),
    remainingMs,
    cancelled: () => call.cancelled,
    throwIfDone() {
      if (call.cancelled) throw cancelledError('the client cancelled the call');
      if (remainingMs() <= 0) throw deadlineExceeded('the deadline passed before the work finished; raise the client deadline or ask for less');
    },
  };
}

export type ErrorLog = (method: string, e: unknown) => void;

const defaultLog: ErrorLog = (method, e) => process.stderr.write(`[${method}] internal error: ${(e as Error)?.stack ?? String(e)}\n`);

/**
 * A unary handler from an async function. Thrown typed errors become their gRPC status with
 * the message; anything else becomes INTERNAL (and is logged). The server never crashes on a
 * bad request.
 */
export function unary<Req, Res>(method: string, fn: (req: Req, ctx: CallContext) => Promise<Res> | Res, log: ErrorLog = defaultLog): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const ctx = context(call as grpc.ServerUnaryCall<unknown, unknown>);
    Promise.resolve()
      .then(() => fn(call.request, ctx))
      .then(
        (res) => callback(null, res),
        (e) => callback(toServiceError(e, (err) => log(method, err)) as grpc.ServiceError),
      );
  };
}

/** A writer that respects backpressure: `write` resolves when the stream can take more. */
export interface StreamWriter<Res> {
  write(message: Res): Promise<void>;
  readonly ctx: CallContext;
}

/**
 * A server-streaming handler. `fn` writes messages and returns when the stream is complete;
 * a thrown error ends the stream with its status.
 */
export function serverStream<Req, Res>(method: string, fn: (req: Req, out: StreamWriter<Res>) => Promise<void>, log: ErrorLog = defaultLog): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const ctx = context(call as grpc.ServerWritableStream<unknown, unknown>);
    const writer: StreamWriter<Res> = {
      ctx,
      write(message) {
        if (call.cancelled || call.destroyed) return Promise.reject(cancelledError('the client went away'));
        if (call.write(message)) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
          const onDrain = () => {
            call.off('close', onClose);
            resolve();
          };
          const onClose = () => {
            call.off('drain', onDrain);
            reject(cancelledError('the client went away'));
          };
          call.once('drain', onDrain);
          call.once('close', onClose);
        });
      },
    };
    fn(call.request, writer).then(
      () => {
        if (!call.cancelled) call.end();
      },
      (e) => {
        if (call.cancelled) return;
        call.emit('error', toServiceError(e, (err) => log(method, err)));
      },
    );
  };
}
