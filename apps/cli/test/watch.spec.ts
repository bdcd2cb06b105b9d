import { Server, ServerCredentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import { MetaOptimiserServiceClient, MetaOptimiserServiceService, RunState, type RunStatus, type WatchRunRequest, type WatchRunResponse } from '@chameleon/proto';
import { bearer, connect } from '@chameleon/transport';
import { watchRun } from '../src/commands/watch';

const runStatus = (state: RunState, iteration: number): RunStatus => ({ runId: 'r1', state, phase: 'meta-train', iteration, totalIterations: 10, lastMetaLoss: 0, checkpointPath: '', error: '', outputDir: '', backend: 'wasm' });

/** A meta-optimiser whose WatchRun answers the k-th attach with script[k]. */
async function fakeMetaOptimiser(script: ((call: ServerWritableStream<WatchRunRequest, WatchRunResponse>) => void)[]) {
  let attaches = 0;
  const server = new Server();
  const unimplemented = (_: unknown, cb: (e: { code: number }) => void) => cb({ code: status.UNIMPLEMENTED });
  server.addService(MetaOptimiserServiceService, {
    startRun: unimplemented,
    getRun: unimplemented,
    listRuns: unimplemented,
    stopRun: unimplemented,
    watchRun: (call: ServerWritableStream<WatchRunRequest, WatchRunResponse>) => script[Math.min(attaches++, script.length - 1)](call),
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { address: `127.0.0.1:${port}`, attaches: () => attaches, stop: () => server.forceShutdown() };
}

const dropAfterProgress = (call: ServerWritableStream<WatchRunRequest, WatchRunResponse>) => {
  call.write({ event: { $case: 'status', status: runStatus(RunState.RUN_STATE_RUNNING, 3) } });
  setTimeout(() => call.emit('error', { code: status.UNAVAILABLE, details: 'Connection dropped' }), 20);
};
const finish = (call: ServerWritableStream<WatchRunRequest, WatchRunResponse>) => {
  call.write({ event: { $case: 'status', status: runStatus(RunState.RUN_STATE_COMPLETED, 10) } });
  call.write({ event: { $case: 'finished', finished: runStatus(RunState.RUN_STATE_COMPLETED, 10) } });
  call.end();
};

describe('chameleon train: watching a run', () => {
  it('re-attaches after dropped connections and returns the final status', async () => {
    const fake = await fakeMetaOptimiser([dropAfterProgress, dropAfterProgress, finish]);
    const client = connect(MetaOptimiserServiceClient, fake.address);
    const lines: string[] = [];
    const events: WatchRunResponse[] = [];
    try {
      const final = await watchRun(client, 'r1', (e) => events.push(e), { backoffMs: 10, log: (l) => lines.push(l) });
      expect(final.state).toBe(RunState.RUN_STATE_COMPLETED);
      expect(final.iteration).toBe(10);
      expect(fake.attaches()).toBe(3);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/connection lost .*re-attaching to run r1/);
      expect(events.filter((e) => e.event?.$case === 'finished')).toHaveLength(1);
    } finally {
      client.close();
      fake.stop();
    }
  });

  it('gives up with UNAVAILABLE after the allowed re-attachments', async () => {
    const fake = await fakeMetaOptimiser([dropAfterProgress]);
    const client = connect(MetaOptimiserServiceClient, fake.address);
    try {
      await expect(watchRun(client, 'r1', () => undefined, { retries: 2, backoffMs: 5 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(fake.attaches()).toBe(3);
    } finally {
      client.close();
      fake.stop();
    }
  });

  it('does not retry answers: NOT_FOUND ends the watch at once', async () => {
    const fake = await fakeMetaOptimiser([(call) => call.emit('error', { code: status.NOT_FOUND, details: 'run_id: no run "r1"' })]);
    const client = connect(MetaOptimiserServiceClient, fake.address);
    try {
      await expect(watchRun(client, 'r1', () => undefined, { backoffMs: 5 })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('run_id') });
      expect(fake.attaches()).toBe(1);
    } finally {
      client.close();
      fake.stop();
    }
  });

  it('sends its metadata (the bearer token of CHAMELEON_PEER_TOKEN) on every attach', async () => {
    const seen: string[] = [];
    const record = (next: (call: ServerWritableStream<WatchRunRequest, WatchRunResponse>) => void) => (call: ServerWritableStream<WatchRunRequest, WatchRunResponse>) => {
      seen.push(String(call.metadata.get('authorization')[0] ?? ''));
      next(call);
    };
    const fake = await fakeMetaOptimiser([record(dropAfterProgress), record(finish)]);
    const client = connect(MetaOptimiserServiceClient, fake.address);
    try {
      await watchRun(client, 'r1', () => undefined, { backoffMs: 5, metadata: bearer('s3cret') });
      expect(seen).toEqual(['Bearer s3cret', 'Bearer s3cret']);
    } finally {
      client.close();
      fake.stop();
    }
  });
});
