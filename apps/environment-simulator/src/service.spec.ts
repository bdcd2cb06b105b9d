import { float32 } from '@chameleon/core';
import { createRegistry } from '@chameleon/builtins';
import { describeSupervisedSourceContract } from '@chameleon/envs';
import { DataType, Split, type SampleSupervisedRequest } from '@chameleon/proto';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { toWire } from '@chameleon/tensor';
import { Peers, remoteDataFn, taskToWire, type RunningServer } from '@chameleon/transport';
import { healthStatus, rejection, serveForTest } from '@chameleon/transport/src/testing';
import { environmentSimulatorService } from './service';

let server: RunningServer;
let peers: Peers;
const MAX = 1024 * 1024;

beforeAll(async () => {
  server = await serveForTest([environmentSimulatorService(createRegistry())], { maxMessageBytes: MAX });
  peers = new Peers({ taskSampler: '127.0.0.1:1', simulators: [server.address], learner: '127.0.0.1:1' }, { maxMessageBytes: 8 * MAX });
});
afterAll(async () => {
  peers.close();
  await server.shutdown(1000);
});

const tasks = (n: number) => sampleTasks(new SinusoidFamily(), { split: 'train', seed: 1, start: 0, count: n });

describeSupervisedSourceContract('sinusoid via gRPC', () => remoteDataFn(peers), tasks, { input: [1], target: [1] });

describe('EnvironmentSimulator over gRPC', () => {
  const ok = (): SampleSupervisedRequest => ({ tasks: tasks(2).map(taskToWire), supportSize: 5, querySize: 5, seed: 1, queryInputs: undefined, sourceConfig: {} });

  afterEach(async () => {
    expect(await healthStatus(server.address, 'chameleon.v1.EnvironmentSimulatorService')).toBe('SERVING');
    const b = await peers.sampleSupervised(ok());
    expect(b.supportInputs?.shape).toEqual([2, 5, 1]);
  });

  it('describes its environments with input bounds and dtypes', async () => {
    const res = await peers.listEnvironments();
    const sin = res.environments.find((e) => e.name === 'sinusoid')!;
    expect(sin.inputSpec).toMatchObject({ dtype: DataType.DATA_TYPE_FLOAT32, shape: [1], minimum: -5, maximum: 5 });
    expect(sin.supervised).toBe(true);
  });

  it('rejects query inputs of the wrong shape, or with NaN, naming the field', async () => {
    const wrong = await rejection(peers.sampleSupervised({ ...ok(), queryInputs: toWire(float32([3, 2])) }));
    expect(wrong).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/query_inputs: must have shape \[Q, 1\], got \[3, 2\]/) });
    const nan = await rejection(peers.sampleSupervised({ ...ok(), queryInputs: toWire(float32([2, 1], [0, NaN])) }));
    expect(nan).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/query_inputs.*not finite/) });
    const bytes = await rejection(peers.sampleSupervised({ ...ok(), queryInputs: { dtype: DataType.DATA_TYPE_FLOAT32, shape: [4, 1], data: Buffer.alloc(7) } }));
    expect(bytes).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/query_inputs.data: shape \[4, 1\] of float32 needs 16 bytes, got 7/) });
  });

  it('answers a task of an unknown family with NOT_FOUND and a task without family with INVALID_ARGUMENT', async () => {
    const t = taskToWire(tasks(1)[0]);
    expect((await rejection(peers.sampleSupervised({ ...ok(), tasks: [{ ...t, family: 'mujoco-typo' }] }))).code).toBe('NOT_FOUND');
    expect(await rejection(peers.sampleSupervised({ ...ok(), tasks: [{ ...t, family: '' }] }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/tasks\[0\]\.family/) });
    expect(await rejection(peers.sampleSupervised({ ...ok(), tasks: [] }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/tasks/) });
    expect(await rejection(peers.sampleSupervised({ ...ok(), tasks: [{ ...t, params: { amplitude: 'big', phase: 0 } }] }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/tasks\[0\]\.params\.amplitude/),
    });
  });

  it('answers a request over the message limit, or a batch too large to build, with RESOURCE_EXHAUSTED', async () => {
    const big = await rejection(peers.sampleSupervised({ ...ok(), queryInputs: toWire(float32([2 * MAX / 4, 1])) }));
    expect(big.code).toBe('RESOURCE_EXHAUSTED');
    const huge = await rejection(peers.sampleSupervised({ ...ok(), supportSize: 100_000_000 }));
    expect(huge).toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/support_size/) });
  });

  it('validates the source config', async () => {
    const e = await rejection(peers.sampleSupervised({ ...ok(), sourceConfig: { inputRange: [5, -5] } }));
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/source_config\.inputRange/) });
  });

  it('serves a split-agnostic request for test tasks too', async () => {
    const test = sampleTasks(new SinusoidFamily(), { split: 'test', seed: 3, start: 0, count: 2 }).map(taskToWire);
    expect(test[0].split).toBe(Split.SPLIT_TEST);
    const b = await peers.sampleSupervised({ ...ok(), tasks: test });
    expect(b.queryTargets?.shape).toEqual([2, 5, 1]);
  });
});
