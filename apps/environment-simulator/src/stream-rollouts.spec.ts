import * as grpc from '@grpc/grpc-js';
import { createRegistry } from '@chameleon/builtins';
import { NavigationFamily } from '@chameleon/envs';
import type { StreamRolloutsRequest, StreamRolloutsResponse, TrajectoryChunk } from '@chameleon/proto';
import { sampleTasks } from '@chameleon/tasks';
import { fromWire, paramsToWire } from '@chameleon/tensor';
import { Peers, fromServiceError, taskToWire, type RunningServer } from '@chameleon/transport';
import { healthStatus, rejection, serveForTest } from '@chameleon/transport/src/testing';
import { linearTestPolicy } from './testing';
import { environmentSimulatorService } from './service';

let server: RunningServer;
let peers: Peers;

beforeAll(async () => {
  const registry = createRegistry().register(linearTestPolicy);
  server = await serveForTest([environmentSimulatorService(registry)]);
  peers = new Peers({ taskSampler: '127.0.0.1:1', simulators: [server.address], learner: '127.0.0.1:1' });
});
afterAll(async () => {
  peers.close();
  await server.shutdown(1000);
});

const tasks = sampleTasks(new NavigationFamily(), { split: 'train', seed: 1, start: 0, count: 3 }).map(taskToWire);
const params = (bx: number, by: number) => paramsToWire(['w', 'b'], [[2, 2], [2]], [new Float32Array(4), Float32Array.from([bx, by])]);
const request = (over: Partial<StreamRolloutsRequest> = {}): StreamRolloutsRequest => ({
  environment: '2d-navigation',
  environmentConfig: { goalTolerance: 0 },
  policy: { architecture: 'test-linear-policy', config: {} },
  policyParams: [params(0.05, 0.05)],
  tasks,
  episodes: [0, 1, 2].flatMap((task) => [0, 1, 2, 3].map((episode) => ({ task, episode }))),
  horizon: 50,
  seed: 9,
  chunkSteps: 64,
  deterministic: false,
  parallelWorlds: 5,
  observeTask: false,
  ...over,
});

function stream(req: StreamRolloutsRequest, options: Partial<grpc.CallOptions> = {}): Promise<TrajectoryChunk[]> {
  const sim = peers.simulators[0];
  return new Promise((resolve, reject) => {
    const chunks: TrajectoryChunk[] = [];
    const call = sim.streamRollouts(req, new grpc.Metadata(), options);
    call.on('data', (m: StreamRolloutsResponse) => chunks.push(m.chunk!));
    call.on('error', (e) => reject(fromServiceError(e, 'StreamRollouts')));
    call.on('end', () => resolve(chunks));
  });
}

/** Episode key -> its rows (observations and actions), assembled from segments. */
function assemble(chunks: TrajectoryChunk[]) {
  const eps = new Map<string, { obs: number[]; actions: number[]; steps: number[]; complete: number; ret: number }>();
  for (const c of chunks) {
    const obs = fromWire(c.observations, 'o').data as Float32Array;
    const act = fromWire(c.actions, 'a').data as Float32Array;
    for (const s of c.segments) {
      const key = `${s.episode!.task}/${s.episode!.episode}`;
      const e = eps.get(key) ?? { obs: [], actions: [], steps: [], complete: 0, ret: 0 };
      for (let r = s.offset; r < s.offset + s.length; r++) {
        e.obs.push(obs[2 * r], obs[2 * r + 1]);
        e.actions.push(act[2 * r], act[2 * r + 1]);
        e.steps.push(s.startStep + r - s.offset);
      }
      if (s.complete) {
        e.complete++;
        e.ret = s.episodeReturn;
      }
      eps.set(key, e);
    }
  }
  return eps;
}

describe('StreamRollouts over gRPC', () => {
  afterEach(async () => {
    expect(await healthStatus(server.address, 'chameleon.v1.EnvironmentSimulatorService')).toBe('SERVING');
  });

  it('streams every requested episode exactly once, whole, in chunks of at most chunk_steps rows', async () => {
    const chunks = await stream(request());
    const rows = chunks.map((c) => c.rewards!.shape[0]);
    expect(Math.max(...rows)).toBeLessThanOrEqual(64);
    expect(rows.reduce((a, b) => a + b, 0)).toBe(12 * 50);
    for (const c of chunks) {
      const n = c.rewards!.shape[0];
      expect(c.segments.reduce((a, s) => a + s.length, 0)).toBe(n);
      expect(fromWire(c.observations, 'o').shape).toEqual([n, 2]);
    }
    const eps = assemble(chunks);
    expect(eps.size).toBe(12);
    for (const e of eps.values()) {
      expect(e.complete).toBe(1);
      expect(e.steps).toEqual(Array.from({ length: 50 }, (_, t) => t));
    }
  });

  it('reproduces any episode exactly, alone or in another batch (so retries never change data)', async () => {
    const all = assemble(await stream(request()));
    const one = assemble(await stream(request({ episodes: [{ task: 2, episode: 3 }], parallelWorlds: 1, chunkSteps: 32 })));
    expect(one.get('2/3')).toEqual(all.get('2/3'));
  });

  it('acts with per-task parameters when given one list per task', async () => {
    const eps = assemble(await stream(request({ policyParams: [params(0.1, 0), params(0, 0.1), params(-0.1, 0)], deterministic: true, episodes: [0, 1, 2].map((task) => ({ task, episode: 0 })) })));
    expect(eps.get('0/0')!.actions.slice(0, 2)).toEqual([expect.closeTo(0.1, 6), 0]);
    expect(eps.get('1/0')!.actions.slice(0, 2)).toEqual([0, expect.closeTo(0.1, 6)]);
    expect(eps.get('2/0')!.actions.slice(0, 2)).toEqual([expect.closeTo(-0.1, 6), 0]);
  });

  it('rejects bad requests before streaming, naming the field', async () => {
    expect(await rejection(stream(request({ episodes: [{ task: 0, episode: 1 }, { task: 0, episode: 1 }] })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/listed twice/) });
    expect(await rejection(stream(request({ episodes: [{ task: 7, episode: 0 }] })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/episodes\[0\]\.task/) });
    expect(await rejection(stream(request({ chunkSteps: 8 })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/chunk_steps/) });
    expect(await rejection(stream(request({ policyParams: [paramsToWire(['w'], [[2, 2]], [new Float32Array(4)])] })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/missing b/) });
    expect(await rejection(stream(request({ policyParams: [params(NaN, 0)] })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/not finite/) });
    expect(await rejection(stream(request({ policyParams: [params(0, 0), params(0, 0)] })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/one per task/) });
    expect((await rejection(stream(request({ policy: { architecture: 'nope', config: {} } })))).code).toBe('NOT_FOUND');
    expect(await rejection(stream(request({ policy: { architecture: 'mlp', config: {} } })))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no policy plugin named "mlp"/) });
    expect(await rejection(stream(request({ environment: 'sinusoid', environmentConfig: {} })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/supervised/) });
    expect(await rejection(stream(request({ episodes: [] })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/episodes/) });
  });

  it('stops at the deadline with DEADLINE_EXCEEDED', async () => {
    const many = request({ episodes: Array.from({ length: 3000 }, (_, i) => ({ task: i % 3, episode: i })), horizon: 100 });
    const e = await rejection(stream(many, { deadline: Date.now() + 300 }));
    expect(e.code).toBe('DEADLINE_EXCEEDED');
  });

  it('stops working when the client cancels', async () => {
    const sim = peers.simulators[0];
    const many = request({ episodes: Array.from({ length: 3000 }, (_, i) => ({ task: i % 3, episode: i })), horizon: 100 });
    const received = await new Promise<number>((resolve) => {
      let n = 0;
      const call = sim.streamRollouts(many);
      call.on('data', () => {
        n++;
        if (n === 3) call.cancel();
      });
      call.on('error', () => resolve(n));
      call.on('end', () => resolve(n));
    });
    expect(received).toBeGreaterThanOrEqual(3);
    expect(received).toBeLessThan(100);
  });
});

describe('StreamRollouts with observe_task (the oracle)', () => {
  it('appends the task parameters to every observation', async () => {
    const chunks = await stream(request({ observeTask: true, episodes: [{ task: 1, episode: 0 }], policyParams: [paramsToWire(['w', 'b'], [[2, 4], [2]], [new Float32Array(8), Float32Array.from([0.01, 0])])], policy: { architecture: 'test-linear-policy', config: { observationSize: 4 } } })).catch((e) => e);
    // The linear test policy only takes 2-D observations: the size check must say so.
    expect(chunks).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/policy.config.observationSize: must be 4/) });
  });
});
