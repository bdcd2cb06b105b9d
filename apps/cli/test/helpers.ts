import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { parseRunConfig, type RunConfig } from '@chameleon/config';
import { MetaOptimiserServiceClient, type WatchRunResponse } from '@chameleon/proto';
import { fromServiceError } from '@chameleon/transport';

export const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `chameleon-${prefix}-`));

/** A small sinusoid run config: fast enough for tests, every phase exercised unless overridden. */
export function smallConfig(over: Record<string, unknown> = {}): RunConfig {
  return parseRunConfig({
    name: 'test',
    seed: 7,
    model: { architecture: 'mlp', config: { hidden: [16, 16] } },
    meta: { iterations: 4, batchSize: 5 },
    data: { supportSize: 5, querySize: 5 },
    checkpoint: { every: 2 },
    baseline: { iterations: 0 },
    evaluation: { enabled: false, tasks: 10, querySize: 10, steps: 2, examples: 1 },
    ...over,
  });
}

/** Collects a run's events until it finishes. */
export function watchAll(client: MetaOptimiserServiceClient, runId: string): Promise<WatchRunResponse[]> {
  return new Promise((resolve, reject) => {
    const events: WatchRunResponse[] = [];
    const stream: grpc.ClientReadableStream<WatchRunResponse> = client.watchRun({ runId, progressEvery: 1 });
    stream.on('data', (e: WatchRunResponse) => events.push(e));
    stream.on('error', (e) => reject(fromServiceError(e, 'WatchRun')));
    stream.on('end', () => resolve(events));
  });
}
