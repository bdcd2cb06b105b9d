import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRegistry } from '@chameleon/builtins';
import { loadCheckpoint } from '@chameleon/app-meta-optimiser';
import { initBackend } from '@chameleon/nn';
import { MetaOptimiserServiceClient, RunState, type StartRunRequest } from '@chameleon/proto';
import { connect, unaryCall } from '@chameleon/transport';
import { rejection } from '@chameleon/transport/src/testing';
import { startEmbedded, type Embedded } from '../src/embedded';
import { tmp, watchAll } from './helpers';

let services: Embedded;
let mo: MetaOptimiserServiceClient;
const dir = tmp('rl');

beforeAll(async () => {
  await initBackend('wasm');
  services = await startEmbedded(createRegistry(), { runsDir: dir, log: () => undefined });
  mo = connect(MetaOptimiserServiceClient, services.addresses.metaOptimiser);
});
afterAll(async () => {
  mo.close();
  await services.shutdown(2000);
});

const tiny = (over: Record<string, unknown> = {}) => ({
  kind: 'rl',
  name: 'tiny',
  task: { family: '2d-navigation' },
  policy: { config: { hidden: [8], activation: 'tanh' } },
  algorithm: { name: 'maml-trpo', config: { trpo: { cgIters: 3 } } },
  meta: { iterations: 2, batchSize: 2, episodesPerTask: 3, horizon: 15 },
  checkpoint: { every: 1 },
  baseline: { iterations: 1, oracleIterations: 1 },
  evaluation: { enabled: true, tasks: 2, episodesPerTask: 2, steps: 2, paths: 1 },
  ...over,
});
const start = (r: Partial<StartRunRequest>) => unaryCall(mo, mo.startRun, { runId: '', config: {}, outputDir: '', resumeFrom: '', ...r }, 'StartRun', { retries: 0 });

describe('meta-RL runs through the services', () => {
  it('meta-trains, trains the pretrained and oracle baselines, evaluates and writes the run folder', async () => {
    const out = join(dir, 'full');
    const { run } = await start({ config: tiny(), outputDir: out });
    const events = await watchAll(mo, run!.runId);
    const last = events[events.length - 1].event;
    expect(last?.$case === 'finished' && RunState[last.finished.state]).toBe('RUN_STATE_COMPLETED');
    const progress = events.flatMap((e) => (e.event?.$case === 'progress' ? [e.event.progress] : []));
    expect(progress.map((p) => `${p.phase}:${p.iteration}`)).toEqual(['meta-train:1', 'meta-train:2', 'baseline:1', 'oracle:1']);
    expect(progress.every((p) => Number.isFinite(p.preAdaptationReturn) && Number.isFinite(p.postAdaptationReturn))).toBe(true);
    const evalJson = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    expect(evalJson.kind).toBe('rl');
    expect(evalJson.results.map((r: { name: string }) => r.name)).toEqual(['maml-trpo', 'pretrained', 'random-init', 'oracle']);
    expect(evalJson.results[0].episodeReturn.map((s: { step: number }) => s.step)).toEqual([0, 1, 2]);
    expect(evalJson.results[3].episodeReturn.map((s: { step: number }) => s.step)).toEqual([0]);
    // The paired change from step 0: zero at step 0, and its mean is the difference of the means.
    const [r0, r1, r2] = evalJson.results[0].episodeReturn as Array<{ mean: number; changeMean: number; changeCi95: number }>;
    expect([r0.changeMean, r0.changeCi95]).toEqual([0, 0]);
    expect(r1.changeMean).toBeCloseTo(r1.mean - r0.mean, 4);
    expect(r2.changeMean).toBeCloseTo(r2.mean - r0.mean, 4);
    expect(r1.changeCi95).toBeGreaterThan(0);
    // Paths of the held-out task: per candidate and step, [episodes][t][x, y].
    expect(evalJson.paths[0].paths['maml-trpo/step0'][0][0]).toHaveLength(2);
    expect(evalJson.paths[0].paths['oracle/step0'][0][0]).toHaveLength(4);
    const ckpt = loadCheckpoint(join(out, 'checkpoint.ckpt'));
    expect([ckpt.iteration, ckpt.baselineIteration, ckpt.trainees.map((t) => `${t.name}:${t.iteration}`)]).toEqual([2, 1, ['oracle:1']]);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.find((m) => m.type === 'progress').rollouts.pre.episodes).toBe(6);
  });

  it('resumes an RL run from its checkpoint and continues the counts', async () => {
    const first = await start({ config: tiny({ meta: { iterations: 1, batchSize: 2, episodesPerTask: 2, horizon: 10 }, baseline: { iterations: 0, oracleIterations: 0 }, evaluation: { enabled: false } }), outputDir: join(dir, 'a') });
    await watchAll(mo, first.run!.runId);
    const resumed = await start({ config: tiny({ meta: { iterations: 2, batchSize: 2, episodesPerTask: 2, horizon: 10 }, baseline: { iterations: 0, oracleIterations: 0 }, evaluation: { enabled: false } }), outputDir: join(dir, 'b'), resumeFrom: join(dir, 'a', 'checkpoint.ckpt'), runId: 'rl-resumed' });
    const events = await watchAll(mo, resumed.run!.runId);
    expect(events.flatMap((e) => (e.event?.$case === 'progress' ? [e.event.progress.iteration] : []))).toEqual([2]);
  });

  it('acts through the learner when rollouts.inference is "learner"', async () => {
    const out = join(dir, 'remote-act');
    const { run } = await start({ config: tiny({ meta: { iterations: 1, batchSize: 2, episodesPerTask: 2, horizon: 10 }, baseline: { iterations: 0, oracleIterations: 0 }, evaluation: { enabled: false }, rollouts: { inference: 'learner' } }), outputDir: out });
    const events = await watchAll(mo, run!.runId);
    const last = events[events.length - 1].event;
    expect(last?.$case === 'finished' && RunState[last.finished.state]).toBe('RUN_STATE_COMPLETED');
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.find((m) => m.type === 'progress').rollouts.pre.episodes).toBe(4);
    expect(existsSync(join(out, 'checkpoint.ckpt'))).toBe(true);
  });

  it('rejects bad RL configs at StartRun, naming the field', async () => {
    expect(await rejection(start({ config: tiny({ task: { family: 'sinusoid' } }) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/supervised data source/) });
    expect((await rejection(start({ config: tiny({ task: { family: 'walker' } }) }))).code).toBe('NOT_FOUND');
    expect(await rejection(start({ config: tiny({ algorithm: { name: 'maml-trpo', config: { trpo: { cgIterations: 3 } } } }) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/config\.algorithm\.config\.trpo/) });
    expect((await rejection(start({ config: tiny({ policy: { architecture: 'transformer' } }) }))).code).toBe('NOT_FOUND');
    expect(await rejection(start({ config: tiny({ policy: { config: { hidden: [0] } } }) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/config\.policy\.config\.hidden/) });
    expect(await rejection(start({ config: tiny({ meta: { episodesPerTask: 0 } }) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/config\.meta\.episodesPerTask/) });
  });
});
