import { float32 } from '@chameleon/core';
import { createRegistry } from '@chameleon/builtins';
import { SinusoidSource } from '@chameleon/envs';
import { Maml, metaGradientHost } from '@chameleon/meta';
import { initBackend, Mlp, mlpConfig } from '@chameleon/nn';
import { DataType, LossKind, type MetaGradientRequest } from '@chameleon/proto';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { fromWire, paramsFromWire, paramsToWire, paramValues, toWire } from '@chameleon/tensor';
import { batchToWire, Peers, unaryCall, type RunningServer } from '@chameleon/transport';
import { healthStatus, rejection, serveForTest } from '@chameleon/transport/src/testing';
import { learnerService } from './service';

let server: RunningServer;
let peers: Peers;
const MAX = 2 * 1024 * 1024;

beforeAll(async () => {
  await initBackend('wasm');
  server = await serveForTest([learnerService(createRegistry())], { maxMessageBytes: MAX });
  peers = new Peers({ taskSampler: '127.0.0.1:1', simulators: ['127.0.0.1:1'], learner: server.address }, { maxMessageBytes: 8 * MAX });
});
afterAll(async () => {
  peers.close();
  await server.shutdown(1000);
});

const modelConfig = { inputSize: 1, hidden: [40, 40], outputSize: 1 };
const model = new Mlp(mlpConfig.parse(modelConfig));
const names = model.spec.map((p) => p.name);
const shapes = model.spec.map((p) => [...p.shape]);
const theta = model.init(3);
const hostBatch = new SinusoidSource().sample(sampleTasks(new SinusoidFamily(), { split: 'train', seed: 1, start: 0, count: 4 }), { supportSize: 10, querySize: 10, seed: 2 });

const request = (over: Partial<MetaGradientRequest> = {}): MetaGradientRequest => ({
  algorithm: 'maml',
  algorithmConfig: {},
  model: { architecture: 'mlp', config: modelConfig },
  params: paramsToWire(names, shapes, theta),
  batch: batchToWire(hostBatch),
  inner: { steps: 1, learningRate: 0.01 },
  loss: LossKind.LOSS_KIND_UNSPECIFIED,
  ...over,
});

describe('Learner over gRPC', () => {
  afterEach(async () => {
    expect(await healthStatus(server.address, 'chameleon.v1.LearnerService')).toBe('SERVING');
    expect((await peers.metaGradient(request())).gradient?.tensors).toHaveLength(6);
  });

  it('with tasksPerPass differentiates a few tasks at a time and returns the same meta-gradient', async () => {
    const single = await serveForTest([learnerService(createRegistry(), { tasksPerPass: 1 })], { maxMessageBytes: MAX });
    const other = new Peers({ taskSampler: '127.0.0.1:1', simulators: ['127.0.0.1:1'], learner: single.address }, { maxMessageBytes: 8 * MAX });
    try {
      const [a, b] = [await peers.metaGradient(request()), await other.metaGradient(request())];
      const [ga, gb] = [paramValues(paramsFromWire(a.gradient), names), paramValues(paramsFromWire(b.gradient), names)];
      ga.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - gb[i][j])).toBeLessThan(1e-5 * Math.max(1, Math.abs(v)))));
      expect(b.metaLoss).toBeCloseTo(a.metaLoss, 5);
      expect(fromWire(b.supportLosses, 'x').shape).toEqual([4, 2]);
    } finally {
      other.close();
      await single.shutdown(1000);
    }
  });

  it('returns the in-process meta-gradient, loss and support trace', async () => {
    const res = await peers.metaGradient(request());
    const local = metaGradientHost(new Maml(), model, theta, hostBatch, { steps: 1, learningRate: 0.01 });
    const remote = paramValues(paramsFromWire(res.gradient), names);
    // Same maths, same inputs; XNNPACK picks micro-kernels by buffer alignment, so the two
    // call paths agree to float32 rounding (about 1e-7 relative), not always bit for bit.
    remote.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - local.grads[i][j])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v)))));
    expect(res.metaLoss).toBeCloseTo(local.metaLoss, 6);
    expect(fromWire(res.supportLosses, 'x').shape).toEqual([4, 2]);
    expect(res.backend).toBe('wasm');
  });

  it('adapts, reporting per-step losses, adapted parameters and predictions', async () => {
    const grid = float32([4, 7, 1], Array.from({ length: 28 }, (_, i) => (i % 7) - 3));
    const res = await peers.adapt({
      model: { architecture: 'mlp', config: modelConfig },
      params: paramsToWire(names, shapes, theta),
      supportInputs: toWire(hostBatch.supportX),
      supportTargets: toWire(hostBatch.supportY),
      queryInputs: toWire(hostBatch.queryX),
      queryTargets: toWire(hostBatch.queryY),
      inner: { steps: 3, learningRate: 0.01 },
      loss: LossKind.LOSS_KIND_MSE,
      returnParameters: true,
      algorithm: '',
      algorithmConfig: undefined,
      predictionInputs: toWire(grid),
    });
    expect(fromWire(res.supportLosses, 's').shape).toEqual([4, 4]);
    expect(fromWire(res.queryLosses, 'q').shape).toEqual([4, 4]);
    expect(fromWire(res.predictions, 'p').shape).toEqual([4, 4, 7, 1]);
    expect(res.adapted?.tensors.map((t) => t.tensor?.shape)).toEqual(shapes.map((s) => [4, ...s]));
    const support = fromWire(res.supportLosses, 's').data as Float32Array;
    for (let t = 0; t < 4; t++) expect(support[t * 4 + 3]).toBeLessThan(support[t * 4]);
  });

  it('predicts with shared parameters', async () => {
    const res = await unaryCall(peers.learner, peers.learner.predict, { model: { architecture: 'mlp', config: modelConfig }, params: paramsToWire(names, shapes, theta), inputs: toWire(float32([5, 1], [0, 1, 2, 3, 4])), perTask: false }, 'predict');
    expect(fromWire(res.outputs, 'y').shape).toEqual([5, 1]);
  });

  it('rejects parameters of the wrong shape, count or values, naming the tensor', async () => {
    const wrong = theta.map((p, i) => (i === 3 ? new Float32Array(39) : p));
    const shapesWrong = shapes.map((s, i) => (i === 3 ? [39] : s));
    expect(await rejection(peers.metaGradient(request({ params: paramsToWire(names, shapesWrong, wrong) })))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/params\[3\]: layer1\/bias must have shape \[40\]/),
    });
    expect(await rejection(peers.metaGradient(request({ params: paramsToWire(names.slice(1), shapes.slice(1), theta.slice(1)) })))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/params: missing layer0\/weight/),
    });
    const nan = theta.map((p, i) => (i === 0 ? Float32Array.from(p, (v, j) => (j === 5 ? NaN : v)) : p));
    expect(await rejection(peers.metaGradient(request({ params: paramsToWire(names, shapes, nan) })))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/params\[0\]: layer0\/weight element 5 is not finite/),
    });
  });

  it('rejects bad batches: wrong shape, NaN, wrong byte count, missing parts', async () => {
    const bx = batchToWire(hostBatch);
    const bad = (over: Partial<typeof bx>) => peers.metaGradient(request({ batch: { ...bx, ...over } }));
    expect(await rejection(bad({ supportInputs: toWire(float32([4, 10, 2])) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/support_inputs: must have shape \[T, N, 1\]/) });
    const nan = Float32Array.from(hostBatch.queryY.data as Float32Array);
    nan[3] = NaN;
    expect(await rejection(bad({ queryTargets: toWire(float32([4, 10, 1], nan)) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/query_targets: element 3 is not finite/) });
    expect(await rejection(bad({ queryInputs: { dtype: DataType.DATA_TYPE_FLOAT32, shape: [4, 10, 1], data: Buffer.alloc(3) } }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/batch.query_inputs.data/),
    });
    expect(await rejection(bad({ supportTargets: undefined }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/support_targets: is required/) });
    expect(await rejection(peers.metaGradient(request({ batch: undefined })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/batch: is required/) });
  });

  it('rejects missing or unknown models and algorithms, and bad inner loops', async () => {
    expect(await rejection(peers.metaGradient(request({ model: undefined })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/model.architecture: is required/) });
    expect((await rejection(peers.metaGradient(request({ model: { architecture: 'transformer', config: {} } })))).code).toBe('NOT_FOUND');
    expect(await rejection(peers.metaGradient(request({ model: { architecture: 'mlp', config: { hidden: [-1] } } })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/model.config.hidden/) });
    expect(await rejection(peers.metaGradient(request({ algorithm: 'mamal' })))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/available: (\S+, )*fomaml, (\S+, )*maml, (\S+, )*reptile/) });
    expect(await rejection(peers.metaGradient(request({ inner: undefined })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/inner: is required/) });
    expect((await rejection(peers.metaGradient(request({ inner: { steps: 5000, learningRate: 0.1 } })))).code).toBe('RESOURCE_EXHAUSTED');
    expect(await rejection(peers.metaGradient(request({ loss: LossKind.LOSS_KIND_CROSS_ENTROPY })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/loss: cross-entropy needs int32 targets/) });
  });

  it('answers a request over the message limit with RESOURCE_EXHAUSTED', async () => {
    const big = float32([1, MAX / 4, 1]);
    expect((await rejection(peers.metaGradient(request({ batch: { ...batchToWire(hostBatch), supportInputs: toWire(big) } })))).code).toBe('RESOURCE_EXHAUSTED');
  });

  it('honours deadlines', async () => {
    const e = await rejection(unaryCall(peers.learner, peers.learner.metaGradient, request(), 'learner', { deadlineMs: 1, retries: 0 }));
    expect(e.code).toBe('DEADLINE_EXCEEDED');
  });

  it('describes its backend, algorithms and models', async () => {
    const d = await peers.describeLearner();
    // Every built-in algorithm (other libraries add theirs), sorted; at least the MLP among the models.
    const builtIn = ['anil', 'cavia', 'fomaml', 'imaml', 'maml', 'maml-plus-plus', 'maml-ppo', 'maml-trpo', 'meta-sgd', 'mr-maml', 'pretrain', 'reptile', 'trpo'];
    expect(d).toMatchObject({ backend: 'wasm', algorithms: expect.arrayContaining(builtIn), models: expect.arrayContaining(['mlp']) });
    expect(d.algorithms).toEqual([...d.algorithms].sort());
  });
});
