import { Metadata, status as grpcStatus, type ClientReadableStream, type StatusObject } from '@grpc/grpc-js';
import type { MetaOptimiserServiceClient, RunStatus, WatchRunResponse } from '@chameleon/proto';
import { fromServiceError } from '@chameleon/transport';

export interface WatchOptions {
  /** Re-attachments allowed in a row without a run event (progress, checkpoint, ...) in between (default 8). */
  readonly retries?: number;
  /** First pause before re-attaching, doubled each time up to `maxBackoffMs` (default 500 ms). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly log?: (line: string) => void;
  /** Call metadata (e.g. a bearer token), sent with every attach. */
  readonly metadata?: Metadata;
}

/**
 * A lost connection, not an answer: the run goes on in the meta-optimiser, so the watcher
 * re-attaches. grpc-js reports a dropped HTTP/2 connection as UNAVAILABLE or as INTERNAL with
 * "Connection dropped" / RST_STREAM in its details.
 */
function isConnectionLoss(s: StatusObject): boolean {
  if (s.code === grpcStatus.UNAVAILABLE) return true;
  return s.code === grpcStatus.INTERNAL && /connection dropped|rst_stream|socket hang up|econnreset/i.test(s.details);
}

/**
 * Follows a run's WatchRun stream until its final status. When the connection drops (a stalled
 * machine, a restarted proxy), it re-attaches with backoff: the meta-optimiser keeps the run
 * and answers a new WatchRun with the current status (and `finished` if it ended meanwhile),
 * so the final status is never lost; progress events during the gap are (the run's own
 * metrics.jsonl has them). Other errors (NOT_FOUND, PERMISSION_DENIED, ...) end the watch.
 */
export function watchRun(client: MetaOptimiserServiceClient, runId: string, onEvent: (e: WatchRunResponse) => void, options: WatchOptions = {}): Promise<RunStatus> {
  const retries = options.retries ?? 8;
  const base = options.backoffMs ?? 500;
  const cap = options.maxBackoffMs ?? 8000;
  return new Promise<RunStatus>((resolve, reject) => {
    let failures = 0;
    const attach = () => {
      const stream: ClientReadableStream<WatchRunResponse> = client.watchRun({ runId, progressEvery: 1 }, options.metadata ?? new Metadata());
      let last: RunStatus | undefined;
      let finished = false;
      stream.on('data', (e: WatchRunResponse) => {
        const ev = e.event;
        // Every attach begins with a status event: only the run's own events count as progress.
        if (ev?.$case !== 'status') failures = 0;
        if (ev?.$case === 'status') last = ev.status;
        else if (ev?.$case === 'finished') {
          last = ev.finished;
          finished = true;
        }
        onEvent(e);
      });
      // grpc-js emits 'error' (non-OK) and then 'status' for every ending; decide on 'status'.
      stream.on('error', () => undefined);
      stream.on('status', (s: StatusObject) => {
        if (finished && last) return resolve(last);
        if (s.code === grpcStatus.OK) return last ? resolve(last) : reject(new Error('the WatchRun stream ended without a final status'));
        if (!isConnectionLoss(s) || failures >= retries) return reject(fromServiceError(s, 'meta-optimiser WatchRun'));
        const wait = Math.min(cap, base * 2 ** failures);
        failures++;
        options.log?.(`meta-optimiser WatchRun: connection lost (${s.details}); re-attaching to run ${runId} in ${wait} ms (${failures}/${retries})`);
        setTimeout(attach, wait);
      });
    };
    attach();
  });
}
