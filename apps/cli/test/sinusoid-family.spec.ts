import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRegistry } from '@chameleon/builtins';
import { isRlConfig, loadRunConfig } from '@chameleon/config';
import { loadCheckpoint } from '@chameleon/app-meta-optimiser';
import { Cavia, caviaConfig, familyAlgorithms, Maml, MetaSgd, type MetaAlgorithm } from '@chameleon/meta';
import { sinusoidHostBatch } from '@chameleon/meta/src/algorithms/common/contract';
import { initBackend, Mlp, mlpConfig, tf } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { LearnerServiceClient, LossKind, MetaOptimiserServiceClient, RunState, type AdaptRequest } from '@chameleon/proto';
import { fromWire, paramsFromWire, paramsToWire, paramValues, toWire } from '@chameleon/tensor';
import { connect, unaryCall } from '@chameleon/transport';
import { z } from 'zod';
import { startEmbedded, type Embedded } from '../src/embedded';
import { smallConfig, tmp, watchAll } from './helpers';

const root = resolve(__dirname, '../../..');
const shipped = readdirSync(join(root, 'configs')).filter((f) => /^sinusoid-.+\.yaml$/.test(f));

describe("sinusoid configs of MAML's family", () => {
  it('ships one per family algorithm, each built in', () => {
    const registry = createRegistry();
    for (const m of familyAlgorithms) {
      expect(shipped).toContain(`sinusoid-${m.name}.yaml`);
      expect(registry.has('algorithm', m.name)).toBe(true);
    }
  });

  it.each(shipped)('%s validates, down to the task, model and algorithm configs', (file) => {
    const c = loadRunConfig(join(root, 'configs', file));
    expect(isRlConfig(c)).toBe(false);
    if (isRlConfig(c)) return;
    const registry = createRegistry();
    registry.parseConfig('task-family', c.task.family, c.task.config, 'config.task.config');
    registry.parseConfig('environment', c.task.family, c.environment.config, 'config.environment.config');
    const model = registry.create<Mlp>('model', c.model.architecture, c.model.config, 'config.model.config');
    const algorithm = registry.create<MetaAlgorithm>('algorithm', c.algorithm.name, c.algorithm.config, 'config.algorithm.config');
    expect(algorithm.name).toBe(c.algorithm.name);
    expect(algorithm.init(model, 1)).toHaveLength(algorithm.paramSpec(model).length);
  });
});

/** The iterations the meta-optimiser put in the config of a `usesIteration` algorithm, per MetaGradient call. */
const seenIterations: Array<number | undefined> = [];
const probe: PluginManifest<'algorithm', Record<string, unknown>, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'iteration-probe',
  version: '0.0.0',
  description: 'test only: MAML that records the iteration in its config',
  configSchema: z.object({ iteration: z.number().int().optional() }).passthrough(),
  create: (config) => {
    const maml = new Maml();
    return { name: 'iteration-probe', usesIteration: true, paramSpec: (m) => maml.paramSpec(m), init: (m, s) => maml.init(m, s), adapt: (i) => maml.adapt(i), metaGradient: (i) => (seenIterations.push(config.iteration as number | undefined), maml.metaGradient(i)) };
  },
};

describe("MAML's family through the services (embedded, real gRPC)", () => {
  let services: Embedded;
  let mo: MetaOptimiserServiceClient;
  let learner: LearnerServiceClient;
  const dir = tmp('family');
  const model = new Mlp(mlpConfig.parse({ hidden: [16, 16] }));
  const modelSpec = { architecture: 'mlp', config: { hidden: [16, 16] } };

  beforeAll(async () => {
    await initBackend('wasm');
    services = await startEmbedded(createRegistry().register(probe), { runsDir: dir, log: () => undefined });
    mo = connect(MetaOptimiserServiceClient, services.addresses.metaOptimiser);
    learner = connect(LearnerServiceClient, services.addresses.learner);
  });
  afterAll(async () => {
    mo.close();
    learner.close();
    await services.shutdown(2000);
  });

  const run = async (name: string, algorithm: { name: string; config: Record<string, unknown> }, over: Record<string, unknown> = {}) => {
    const config = smallConfig({ meta: { iterations: 3, batchSize: 5 }, algorithm, ...over });
    const { run: r } = await unaryCall(mo, mo.startRun, { runId: '', config: config as never, outputDir: join(dir, name), resumeFrom: '' }, 'StartRun', { retries: 0 });
    return watchAll(mo, r!.runId);
  };

  /** The Adapt RPC for a batch, with the algorithm and its config. */
  const adapt = (alg: string, algorithmConfig: Record<string, unknown> | undefined, names: string[], shapes: number[][], values: Float32Array[], inner: { steps: number; learningRate: number }) => {
    const b = sinusoidHostBatch(4, 5, 7, 3);
    const req: AdaptRequest = {
      model: modelSpec,
      params: paramsToWire(names, shapes, values),
      supportInputs: toWire(b.supportX),
      supportTargets: toWire(b.supportY),
      queryInputs: toWire(b.queryX),
      queryTargets: toWire(b.queryY),
      inner,
      loss: LossKind.LOSS_KIND_MSE,
      returnParameters: false,
      algorithm: alg,
      algorithmConfig,
      predictionInputs: undefined,
    };
    return { batch: b, response: unaryCall(learner, learner.adapt, req, 'Adapt') };
  };

  /** In-process query losses [T, steps + 1] of an algorithm's own adaptation rule. */
  const local = (alg: MetaAlgorithm, values: Float32Array[], b: ReturnType<typeof sinusoidHostBatch>, inner: { steps: number; learningRate: number }) =>
    tf.tidy(() => {
      const spec = alg.paramSpec(model);
      const t = (h: { shape: readonly number[]; data: ArrayLike<number> }) => tf.tensor(Array.from(h.data), [...h.shape]);
      const a = alg.adapt({ model, params: values.map((v, i) => tf.tensor(v, [...spec[i].shape])), supportX: t(b.supportX), supportY: t(b.supportY), queryX: t(b.queryX), queryY: t(b.queryY), inner, loss: 'mse' });
      return Array.from(a.queryLosses!.dataSync());
    });

  it('trains CAVIA (non-default context size) for 3 iterations; the evaluation and Adapt use its rule with the run’s config', async () => {
    const algorithm = { name: 'cavia', config: { contextSize: 2 } };
    const events = await run('cavia', algorithm, { inner: { steps: 1, learningRate: 1 }, evaluation: { enabled: true, tasks: 10, querySize: 10, steps: 1, examples: 0, randomInit: false } });
    const finished = events[events.length - 1].event;
    expect(finished?.$case === 'finished' && finished.finished.state).toBe(RunState.RUN_STATE_COMPLETED);
    const final = events.flatMap((e) => (e.event?.$case === 'validation' && e.event.validation.final ? [e.event.validation.result!] : []))[0];
    expect(final.results.map((r) => r.name)).toEqual(['cavia']);
    const loss = final.results[0].loss.map((s) => s.mean);
    expect(loss).toHaveLength(2);
    expect(loss.every(Number.isFinite)).toBe(true);
    // The context step moved the predictions: the rule ran (step 1 differs from step 0).
    expect(loss[1]).not.toBeCloseTo(loss[0], 6);

    // Adapt over gRPC with the run's config equals CAVIA's own rule in process, on the trained parameters.
    const cavia = new Cavia(caviaConfig.parse(algorithm.config));
    const spec = cavia.paramSpec(model);
    const trained = paramValues(paramsFromWire(loadCheckpoint(join(dir, 'cavia', 'checkpoint.ckpt')).params), spec.map((p) => p.name));
    const inner = { steps: 2, learningRate: 1 };
    const { batch, response } = adapt('cavia', algorithm.config, spec.map((p) => p.name), spec.map((p) => [...p.shape]), trained, inner);
    const remote = Array.from(fromWire((await response).queryLosses, 'query_losses', ['float32'] as const).data);
    const want = local(cavia, trained, batch, inner);
    remote.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    expect(want[2]).not.toBeCloseTo(want[0], 4);
  }, 60_000);

  it('Adapt with meta-sgd uses the learned step sizes, not the request’s learning rate', async () => {
    const alg = new MetaSgd();
    const spec = alg.paramSpec(model);
    const values = alg.init(model, 5);
    const inner = { steps: 1, learningRate: 0.5 };
    const { batch, response } = adapt('meta-sgd', {}, spec.map((p) => p.name), spec.map((p) => [...p.shape]), values, inner);
    const remote = Array.from(fromWire((await response).queryLosses, 'query_losses', ['float32'] as const).data);
    const want = local(alg, values, batch, inner);
    remote.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    // Plain SGD at the request's rate gives other numbers: the test tells the rules apart.
    const sgd = local(new Maml(), values.slice(0, model.spec.length), batch, inner);
    expect(Math.max(...sgd.map((v, i) => Math.abs(v - want[i])))).toBeGreaterThan(1e-3);
  });

  it('passes the meta-iteration to algorithms with schedules (usesIteration) on every MetaGradient call', async () => {
    seenIterations.length = 0;
    const events = await run('probe', { name: 'iteration-probe', config: { any: 1 } });
    const finished = events[events.length - 1].event;
    expect(finished?.$case === 'finished' && finished.finished.state).toBe(RunState.RUN_STATE_COMPLETED);
    // The learner's first call of a batch shape also measures one task's tape (automatic pass
    // size, libs/meta/src/passes.ts): iteration 0 is seen twice, then once per call.
    expect(seenIterations).toEqual([0, 0, 1, 2]);
  }, 60_000);
});
