import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRegistry } from '@chameleon/builtins';
import { isRlConfig, loadRunConfig } from '@chameleon/config';
import { fewShotAlgorithms, type MetaAlgorithm } from '@chameleon/meta';
import { initBackend, type FunctionalModel } from '@chameleon/nn';
import { EvaluatorServiceClient, MetaOptimiserServiceClient, RunState, Split, TaskSamplerServiceClient, type EvaluateRequest } from '@chameleon/proto';
import { buildReport } from '@chameleon/report';
import { paramsToWire } from '@chameleon/tensor';
import { connect, unaryCall } from '@chameleon/transport';
import { startEmbedded, type Embedded } from '../src/embedded';
import { smallConfig, tmp, watchAll } from './helpers';

const root = resolve(__dirname, '../../..');
const shipped = readdirSync(join(root, 'configs')).filter((f) => /^omniglot-like-.+\.yaml$/.test(f));

describe('few-shot configs', () => {
  it('ships a 5-way 1-shot config for every few-shot learner and the gradient-based ones of the results table', () => {
    const names = [...fewShotAlgorithms.map((m) => m.name), 'maml', 'fomaml', 'reptile', 'meta-sgd', 'anil', 'maml-plus-plus'];
    for (const n of names) expect(shipped).toContain(`omniglot-like-${n}-5w1s.yaml`);
    expect(shipped).toEqual(expect.arrayContaining(['omniglot-like-maml-nme-5w1s.yaml', 'omniglot-like-mr-maml-nme-5w1s.yaml']));
  });

  it.each(shipped)('%s validates, down to the task, source, model and algorithm configs', (file) => {
    const c = loadRunConfig(join(root, 'configs', file));
    expect(isRlConfig(c)).toBe(false);
    if (isRlConfig(c)) return;
    const registry = createRegistry();
    const family = registry.parseConfig('task-family', c.task.family, c.task.config, 'config.task.config') as { ways: number };
    registry.parseConfig('environment', c.task.family, c.environment.config, 'config.environment.config');
    const model = registry.create<FunctionalModel>('model', c.model.architecture, c.model.config, 'config.model.config');
    const algorithm = registry.create<MetaAlgorithm>('algorithm', c.algorithm.name, c.algorithm.config, 'config.algorithm.config');
    expect(model.outputShape).toEqual([family.ways]);
    // N-way K-shot: the support set holds K examples of each of the N classes.
    expect(c.data.supportSize % family.ways).toBe(0);
    expect(c.evaluation.tasks).toBe(600);
    expect(algorithm.init(model, 1)).toHaveLength(algorithm.paramSpec(model).length);
  });
});

describe('few-shot classification through the services (embedded, real gRPC)', () => {
  let services: Embedded;
  let mo: MetaOptimiserServiceClient;
  let sampler: TaskSamplerServiceClient;
  let evaluator: EvaluatorServiceClient;
  const dir = tmp('few-shot');
  const tiny = { architecture: 'conv4', config: { filters: 2, ways: 5 } };

  beforeAll(async () => {
    await initBackend('wasm');
    services = await startEmbedded(createRegistry(), { runsDir: dir, log: () => undefined });
    mo = connect(MetaOptimiserServiceClient, services.addresses.metaOptimiser);
    sampler = connect(TaskSamplerServiceClient, services.addresses.taskSampler);
    evaluator = connect(EvaluatorServiceClient, services.addresses.evaluator);
  });
  afterAll(async () => {
    mo.close();
    sampler.close();
    evaluator.close();
    await services.shutdown(2000);
  });

  it('TaskSampler serves N-way episodes: N distinct classes in label order, disjoint alphabets across splits', async () => {
    const families = await unaryCall(sampler, sampler.listFamilies, {}, 'ListFamilies');
    expect(families.families.map((f) => f.name)).toEqual(expect.arrayContaining(['omniglot-like', 'omniglot']));
    const draw = (split: Split) => unaryCall(sampler, sampler.sampleTasks, { family: 'omniglot-like', familyConfig: { ways: 20 }, split, seed: 3, startIndex: 0, count: 30 }, 'SampleTasks');
    const classesOf = (t: { params?: { [k: string]: unknown } }) => (t.params!['classes'] as Array<{ alphabet: number; character: number; rotation: number }>).map((c) => `${c.alphabet}/${c.character}/${c.rotation}`);
    const train = (await draw(Split.SPLIT_TRAIN)).tasks;
    const test = (await draw(Split.SPLIT_TEST)).tasks;
    expect(train).toHaveLength(30);
    for (const t of train) expect(new Set(classesOf(t)).size).toBe(20);
    const alphabets = (ts: typeof train) => new Set(ts.flatMap((t) => classesOf(t).map((c) => c.split('/')[0])));
    const trainAlphabets = alphabets(train);
    for (const a of alphabets(test)) expect(trainAlphabets.has(a)).toBe(false);
  });

  it('Evaluator: accuracy with a 95% CI over 600 episodes (5-way 1-shot, conv-4 ProtoNets)', async () => {
    const registry = createRegistry();
    const one = { architecture: 'conv4', config: { filters: 1, ways: 5 } };
    const model = registry.create<FunctionalModel>('model', 'conv4', one.config);
    const req: EvaluateRequest = {
      family: 'omniglot-like',
      familyConfig: { ways: 5 },
      model: one,
      candidates: [{ name: 'protonets', params: paramsToWire(model.spec.map((p) => p.name), model.spec.map((p) => p.shape), model.init(1)), algorithm: 'protonets', algorithmConfig: undefined }],
      includeRandomInit: false,
      numTasks: 600,
      shots: 5,
      querySize: 5,
      maxSteps: 0,
      learningRate: 0,
      seed: 11,
      loss: 0,
      split: Split.SPLIT_TEST,
      numExamples: 0,
      chunkSize: 0,
    };
    const res = await unaryCall(evaluator, evaluator.evaluate, req, 'Evaluate', { retries: 0, deadlineMs: 170_000 });
    expect(res.numTasks).toBe(600);
    const [acc] = res.results[0].accuracy;
    // A random one-filter conv-4 embedding already beats chance (0.2) with prototypes, but is far from perfect.
    expect(acc.mean).toBeGreaterThan(0.22);
    expect(acc.mean).toBeLessThan(0.95);
    // The half-width of a normal 95% interval of the mean over 600 episodes.
    expect(acc.ci95).toBeCloseTo((1.96 * acc.std) / Math.sqrt(600), 4);
    // About 10 s of CPU; the margin is for a loaded machine.
  }, 180_000);

  const train = async (name: string, algorithm: string, steps: number) => {
    const config = smallConfig({
      name,
      task: { family: 'omniglot-like', config: { ways: 5 } },
      model: tiny,
      algorithm: { name: algorithm, config: {} },
      inner: { steps, learningRate: 0.4 },
      meta: { iterations: 3, batchSize: 2 },
      data: { supportSize: 5, querySize: 10 },
      checkpoint: { every: 3 },
      validation: { every: 0, tasks: 10 },
      evaluation: { enabled: true, tasks: 20, querySize: 10, steps, examples: 0, randomInit: false },
    });
    const out = join(dir, name);
    const { run } = await unaryCall(mo, mo.startRun, { runId: '', config: config as never, outputDir: out, resumeFrom: '' }, 'StartRun', { retries: 0 });
    return { out, events: await watchAll(mo, run!.runId) };
  };

  it.each([
    ['protonets', 0],
    ['maml', 1],
  ])('a %s run (3 iterations, tiny conv-4) completes with accuracy per step, and its report plots accuracy', async (algorithm, steps) => {
    const { out, events } = await train(`fs-${algorithm}`, algorithm as string, steps as number);
    const finished = events[events.length - 1].event;
    expect(finished?.$case === 'finished' && finished.finished.state).toBe(RunState.RUN_STATE_COMPLETED);
    const progress = events.flatMap((e) => (e.event?.$case === 'progress' ? [e.event.progress] : [])).filter((p) => p.phase === 'meta-train');
    expect(progress.at(-1)!.iteration).toBe(3);
    for (const p of progress) expect(Number.isFinite(p.metaLoss)).toBe(true);
    const evaluation = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as { results: Array<{ name: string; accuracy: Array<{ step: number; mean: number; ci95: number }> }> };
    const acc = evaluation.results.find((r) => r.name === algorithm)!.accuracy;
    expect(acc.map((s) => s.step)).toEqual(Array.from({ length: (steps as number) + 1 }, (_, k) => k));
    for (const s of acc) {
      expect(s.mean).toBeGreaterThanOrEqual(0);
      expect(s.mean).toBeLessThanOrEqual(1);
      expect(s.ci95).toBeGreaterThan(0);
    }
    const html = readFileSync(await buildReport(out), 'utf8');
    expect(html).toContain('data-plot="adaptation-accuracy"');
    expect(html).toContain('Accuracy vs adaptation steps');
  }, 180_000);
});
