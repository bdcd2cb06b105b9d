import { createRegistry } from '@chameleon/builtins';
import { agentsPerMatch, describeEnvironmentContract, isSequential, NavigationFamily, type SequentialEnvironment } from '@chameleon/envs';
import { SinusoidFamily, sampleTasks, type TaskFamily } from '@chameleon/tasks';
import { toWire } from '@chameleon/tensor';
import { Peers, remoteWorlds, taskToWire, unaryCall, type RunningServer } from '@chameleon/transport';
import { healthStatus, rejection, serveForTest } from '@chameleon/transport/src/testing';
import { environmentSimulatorService } from './service';

let server: RunningServer;
let peers: Peers;

beforeAll(async () => {
  server = await serveForTest([environmentSimulatorService(createRegistry(), { worldSets: { maxSets: 40, idleMs: 60_000 } })]);
  peers = new Peers({ taskSampler: '127.0.0.1:1', simulators: [server.address], learner: '127.0.0.1:1' });
});
afterAll(async () => {
  peers.close();
  await server.shutdown(1000);
});

const nav = (n: number) => sampleTasks(new NavigationFamily(), { split: 'train', seed: 1, start: 0, count: n });
const sinusoid = sampleTasks(new SinusoidFamily(), { split: 'train', seed: 1, start: 0, count: 1 })[0];

// Every sequential built-in passes the same contract through gRPC as in process.
const registry = createRegistry();
const sequential = registry.list('environment').filter((m) => isSequential(m.create(m.configSchema.parse({}))));
it('covers every sequential built-in environment', () => {
  expect(sequential.map((m) => m.name)).toEqual(['2d-navigation', 'ant-dir', 'ant-goal', 'halfcheetah-dir', 'halfcheetah-vel', 'nonstationary-ant', 'nonstationary-bug', 'nonstationary-spider', 'robosumo']);
});
for (const m of sequential) {
  const family = registry.create<TaskFamily>('task-family', m.name, {});
  const tasks = (n: number) => sampleTasks(family, { split: 'train', seed: 1, start: 0, count: n });
  const env = m.create(m.configSchema.parse({})) as SequentialEnvironment;
  describeEnvironmentContract(`${m.name} via gRPC worlds`, () => remoteWorlds(peers, m.name), tasks, sinusoid, { agentsPerMatch: agentsPerMatch(env) });
}

describe('world sets over gRPC', () => {
  const sim = () => peers.simulators[0];
  const create = (over: Record<string, unknown> = {}) =>
    unaryCall(sim(), sim().createWorlds, { environment: '2d-navigation', config: {}, numWorlds: 2, tasks: nav(1).map(taskToWire), seed: 1, ...over }, 'CreateWorlds', { retries: 0 });

  afterEach(async () => {
    expect(await healthStatus(server.address, 'chameleon.v1.EnvironmentSimulatorService')).toBe('SERVING');
  });

  it('describes the action bounds per element and the episode limit', async () => {
    const r = await create();
    expect(r.actionSpec).toMatchObject({ shape: [2], minimum: -0.1, maximum: 0.1, elementMinimum: [-0.1, -0.1], elementMaximum: [0.1, 0.1] });
    expect(r.maxEpisodeSteps).toBe(100);
    await unaryCall(sim(), sim().closeWorlds, { worldSetId: r.worldSetId }, 'CloseWorlds');
  });

  it('answers unknown or closed world sets with NOT_FOUND', async () => {
    const r = await create();
    await unaryCall(sim(), sim().closeWorlds, { worldSetId: r.worldSetId }, 'CloseWorlds');
    const e = await rejection(unaryCall(sim(), sim().resetWorlds, { worldSetId: r.worldSetId, tasks: [] }, 'ResetWorlds', { retries: 0 }));
    expect(e).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/world_set_id: no world set/) });
  });

  it('rejects actions of the wrong shape, a supervised environment, too many worlds, and bad tasks', async () => {
    const r = await create();
    await unaryCall(sim(), sim().resetWorlds, { worldSetId: r.worldSetId, tasks: [] }, 'ResetWorlds');
    const bad = await rejection(unaryCall(sim(), sim().stepWorlds, { worldSetId: r.worldSetId, actions: toWire({ dtype: 'float32', shape: [3, 2], data: new Float32Array(6) }) }, 'StepWorlds', { retries: 0 }));
    expect(bad).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/actions: must have shape \[2, 2\], got \[3, 2\]/) });
    expect(await rejection(create({ environment: 'sinusoid' }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/supervised data source/) });
    expect((await rejection(create({ environment: 'ant-typo' }))).code).toBe('NOT_FOUND');
    expect(await rejection(create({ numWorlds: 100_000 }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/num_worlds/) });
    expect(await rejection(create({ tasks: [] }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/tasks/) });
    expect(await rejection(create({ tasks: [taskToWire({ ...nav(1)[0], params: { goal: [1] } })] }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/tasks\[0\]\.params\.goal: must be two finite numbers/) });
    expect(await rejection(create({ config: { horizon: 0 } }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/config\.horizon/) });
    await unaryCall(sim(), sim().closeWorlds, { worldSetId: r.worldSetId }, 'CloseWorlds');
  });

  it('bounds the number of open world sets with RESOURCE_EXHAUSTED', async () => {
    const ids: string[] = [];
    let error: { code: string } | undefined;
    for (let i = 0; i < 50 && !error; i++) {
      try {
        ids.push((await create()).worldSetId);
      } catch (e) {
        error = e as { code: string };
      }
    }
    expect(error?.code).toBe('RESOURCE_EXHAUSTED');
    for (const id of ids) await unaryCall(sim(), sim().closeWorlds, { worldSetId: id }, 'CloseWorlds');
    expect((await create()).worldSetId).toBeTruthy();
  });
});
