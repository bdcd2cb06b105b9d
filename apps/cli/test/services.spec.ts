import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRegistry } from '@chameleon/builtins';
import { loadCheckpoint } from '@chameleon/app-meta-optimiser';
import { initBackend, Mlp, mlpConfig } from '@chameleon/nn';
import { EvaluatorServiceClient, MetaOptimiserServiceClient, RunState, Split, type EvaluateRequest, type StartRunRequest } from '@chameleon/proto';
import { paramsFromWire, paramsToWire } from '@chameleon/tensor';
import { connect, unaryCall } from '@chameleon/transport';
import { healthStatus, rejection } from '@chameleon/transport/src/testing';
import { startEmbedded, type Embedded } from '../src/embedded';
import { smallConfig, tmp, watchAll } from './helpers';

let services: Embedded;
let evaluator: EvaluatorServiceClient;
let mo: MetaOptimiserServiceClient;
const dir = tmp('services');

beforeAll(async () => {
  await initBackend('wasm');
  services = await startEmbedded(createRegistry(), { runsDir: dir, log: () => undefined });
  evaluator = connect(EvaluatorServiceClient, services.addresses.evaluator);
  mo = connect(MetaOptimiserServiceClient, services.addresses.metaOptimiser);
});
afterAll(async () => {
  evaluator.close();
  mo.close();
  await services.shutdown(2000);
});

const model = new Mlp(mlpConfig.parse({ hidden: [16, 16] }));
const wire = (values: Float32Array[]) => paramsToWire(model.spec.map((p) => p.name), model.spec.map((p) => p.shape), values);

describe('Evaluator over gRPC', () => {
  const request = (over: Partial<EvaluateRequest> = {}): EvaluateRequest => ({
    family: 'sinusoid',
    familyConfig: {},
    model: { architecture: 'mlp', config: { hidden: [16, 16] } },
    candidates: [{ name: 'theta', params: wire(model.init(1)), algorithm: '', algorithmConfig: undefined }],
    includeRandomInit: true,
    numTasks: 12,
    shots: 5,
    querySize: 10,
    maxSteps: 2,
    learningRate: 0.01,
    seed: 3,
    loss: 0,
    split: Split.SPLIT_TEST,
    numExamples: 2,
    chunkSize: 5,
    ...over,
  });
  const evaluate = (r: EvaluateRequest) => unaryCall(evaluator, evaluator.evaluate, r, 'evaluator Evaluate', { retries: 0 });

  afterEach(async () => {
    expect(await healthStatus(services.addresses.evaluator, 'chameleon.v1.EvaluatorService')).toBe('SERVING');
  });

  it('reports mean, CI and std per step for each candidate and random init, plus example predictions', async () => {
    const res = await evaluate(request());
    expect(res.numTasks).toBe(12);
    expect(res.results.map((r) => r.name)).toEqual(['theta', 'random-init']);
    for (const r of res.results) {
      expect(r.loss.map((s) => s.step)).toEqual([0, 1, 2]);
      for (const s of r.loss) {
        expect(s.ci95).toBeCloseTo((1.96 * s.std) / Math.sqrt(12), 6);
        expect(s.mean).toBeGreaterThan(0);
      }
      expect(r.accuracy).toEqual([]);
    }
    expect(res.examples).toHaveLength(2);
    expect(res.examples[0].predictions.map((p) => p.name)).toEqual(['theta/step0', 'theta/step1', 'theta/step2', 'random-init/step0', 'random-init/step1', 'random-init/step2']);
    expect(res.examples[0].gridInputs?.shape).toEqual([100, 1]);
    expect(res.examples[0].supportInputs?.shape).toEqual([5, 1]);
  });

  it('gives every candidate the same data: identical parameters give identical metrics', async () => {
    const p = wire(model.init(2));
    const res = await evaluate(request({ candidates: [{ name: 'a', params: p, algorithm: '', algorithmConfig: undefined }, { name: 'b', params: p, algorithm: '', algorithmConfig: undefined }], includeRandomInit: false, numExamples: 0 }));
    expect(res.results[0].loss).toEqual(res.results[1].loss);
  });

  it('rejects bad requests with the right code, naming the field', async () => {
    expect(await rejection(evaluate(request({ numTasks: 0 })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/num_tasks/) });
    expect((await rejection(evaluate(request({ numTasks: 10_000_000 })))).code).toBe('RESOURCE_EXHAUSTED');
    expect((await rejection(evaluate(request({ family: 'omniglot-typo' })))).code).toBe('NOT_FOUND');
    expect(await rejection(evaluate(request({ model: undefined })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/model.architecture: is required/) });
    expect(await rejection(evaluate(request({ candidates: [], includeRandomInit: false })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/candidates/) });
    const dup = request().candidates[0];
    expect(await rejection(evaluate(request({ candidates: [dup, dup] })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/appears twice/) });
    const broken = wire(model.init(1).map((v, i) => (i === 1 ? Float32Array.from(v, () => NaN) : v)));
    expect(await rejection(evaluate(request({ candidates: [{ name: 'x', params: broken, algorithm: '', algorithmConfig: undefined }] })))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/learner Adapt: params\[1\]: layer0\/bias element 0 is not finite/),
    });
    expect(await rejection(evaluate(request({ learningRate: NaN })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/learning_rate/) });
  });
});

describe('MetaOptimiser over gRPC', () => {
  const start = (r: Partial<StartRunRequest>) =>
    unaryCall(mo, mo.startRun, { runId: '', config: {}, outputDir: '', resumeFrom: '', ...r }, 'StartRun', { retries: 0 });
  const finalParams = (path: string) => paramsFromWire(loadCheckpoint(path).params).map((p) => Array.from(p.tensor.data));

  afterEach(async () => {
    expect(await healthStatus(services.addresses.metaOptimiser, 'chameleon.v1.MetaOptimiserService')).toBe('SERVING');
  });

  it('runs every phase, streams events in order and writes the run folder', async () => {
    const out = join(dir, 'full');
    const config = smallConfig({ baseline: { iterations: 2 }, validation: { every: 2, tasks: 5 }, evaluation: { enabled: true, tasks: 10, querySize: 10, steps: 2, examples: 1 } });
    const { run } = await start({ config: config as never, outputDir: out });
    const events = await watchAll(mo, run!.runId);
    const kinds = events.map((e) => e.event?.$case);
    expect(kinds[0]).toBe('status');
    expect(kinds[kinds.length - 1]).toBe('finished');
    const progress = events.flatMap((e) => (e.event?.$case === 'progress' ? [e.event.progress] : []));
    expect(progress.map((p) => `${p.phase}:${p.iteration}`)).toEqual(['meta-train:1', 'meta-train:2', 'meta-train:3', 'meta-train:4', 'baseline:1', 'baseline:2']);
    expect(progress.every((p) => Number.isFinite(p.metaLoss) && Number.isFinite(p.iterationsPerSecond))).toBe(true);
    const validations = events.flatMap((e) => (e.event?.$case === 'validation' ? [e.event.validation] : []));
    expect(validations.map((v) => `${v.iteration}:${v.final}`)).toEqual(['2:false', '4:false', '4:true']);
    expect(validations[2].result?.results.map((r) => r.name)).toEqual(['maml', 'pretrained', 'random-init']);
    const finished = events[events.length - 1].event;
    expect(finished?.$case === 'finished' && finished.finished.state).toBe(RunState.RUN_STATE_COMPLETED);
    for (const f of ['config.json', 'metrics.jsonl', 'checkpoint.ckpt', 'eval.json', 'run.json']) expect(existsSync(join(out, f))).toBe(true);
    const ckpt = loadCheckpoint(join(out, 'checkpoint.ckpt'));
    expect([ckpt.iteration, ckpt.baselineIteration, ckpt.phase]).toEqual([4, 2, 'done']);
  });

  it('resumes exactly: 3 iterations + resume to 6 equals 6 straight, bit for bit', async () => {
    const straight = await start({ config: smallConfig({ meta: { iterations: 6, batchSize: 5 } }) as never, outputDir: join(dir, 'straight') });
    await watchAll(mo, straight.run!.runId);
    const first = await start({ config: smallConfig({ meta: { iterations: 3, batchSize: 5 } }) as never, outputDir: join(dir, 'part') });
    await watchAll(mo, first.run!.runId);
    const resumed = await start({ config: smallConfig({ meta: { iterations: 6, batchSize: 5 } }) as never, outputDir: join(dir, 'resumed'), resumeFrom: join(dir, 'part', 'checkpoint.ckpt'), runId: 'resumed-run' });
    const events = await watchAll(mo, resumed.run!.runId);
    const its = events.flatMap((e) => (e.event?.$case === 'progress' ? [e.event.progress.iteration] : []));
    expect(its).toEqual([4, 5, 6]);
    expect(finalParams(join(dir, 'resumed', 'checkpoint.ckpt'))).toEqual(finalParams(join(dir, 'straight', 'checkpoint.ckpt')));
  });

  it('stops on request with a checkpoint of the last completed iteration', async () => {
    const { run } = await start({ config: smallConfig({ meta: { iterations: 100000, batchSize: 5 }, checkpoint: { every: 100000 } }) as never, outputDir: join(dir, 'stop') });
    await new Promise((r) => setTimeout(r, 300));
    const stopped = await unaryCall(mo, mo.stopRun, { runId: run!.runId }, 'StopRun');
    expect(stopped.run?.state).toBe(RunState.RUN_STATE_STOPPED);
    const ckpt = loadCheckpoint(join(dir, 'stop', 'checkpoint.ckpt'));
    expect(ckpt.iteration).toBe(stopped.run?.iteration);
    expect(ckpt.iteration).toBeGreaterThan(0);
  });

  it('rejects bad configs and unknown plugins before starting, naming the field', async () => {
    expect(await rejection(start({ config: { meta: { batchSize: 0 } } }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/config\.meta\.batchSize/) });
    expect(await rejection(start({ config: { algorithm: { name: 'mamal' } } }))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no algorithm plugin named "mamal"/) });
    expect((await rejection(start({ config: { task: { family: 'nope' } } }))).code).toBe('NOT_FOUND');
    expect(await rejection(start({ config: { model: { config: { activation: 'gelu' } } } }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/config\.model\.config\.activation/) });
    expect(await rejection(start({ config: { bogus: 1 } }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/config/) });
    expect(await rejection(start({}))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/config: is required/) });
    expect((await rejection(start({ config: smallConfig() as never, resumeFrom: join(dir, 'missing.ckpt') }))).code).toBe('NOT_FOUND');
    expect(await rejection(start({ config: smallConfig({ seed: 99, meta: { iterations: 6, batchSize: 5 } }) as never, resumeFrom: join(dir, 'part', 'checkpoint.ckpt') }))).toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/config\.seed differs/),
    });
    expect((await rejection(start({ config: smallConfig() as never, runId: 'resumed-run' }))).code).toBe('ALREADY_EXISTS');
    expect((await rejection(unaryCall(mo, mo.getRun, { runId: 'nope' }, 'GetRun'))).code).toBe('NOT_FOUND');
    expect((await rejection(watchAll(mo, 'nope'))).code).toBe('NOT_FOUND');
  });
});
