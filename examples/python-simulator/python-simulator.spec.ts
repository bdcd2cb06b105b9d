/**
 * The Python simulator (server.py) against Chameleon's own checks, through gRPC only:
 * the environment contract suite, dm_env step-by-step agreement with libs/envs' VectorEnv,
 * errors naming the field, and StreamRollouts with the gaussian-mlp policy (its
 * parameters initialised by the TypeScript GaussianMlpPolicy) collected by collectRollouts.
 * Skipped, with a message, where /usr/bin/python3 lacks grpc, numpy or a protoc.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { environmentSimulatorService } from '@chameleon/app-environment-simulator';
import { isRlConfig, loadRunConfig, type RlRunConfig } from '@chameleon/config';
import { Rng } from '@chameleon/core';
import { describeEnvironmentContract, localWorlds, NavigationFamily, StepType, type TimeSteps, type Worlds } from '@chameleon/envs';
import { loadPluginModule, PluginRegistry } from '@chameleon/plugins';
import { EnvironmentSimulatorServiceClient, type StreamRolloutsRequest, type StreamRolloutsResponse, type TrajectoryChunk } from '@chameleon/proto';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig, gaussianMlpPolicyPlugin } from '@chameleon/rl';
import { sampleTasks, type Task, type TaskFamily } from '@chameleon/tasks';
import { fromWire, paramsToWire, toWire } from '@chameleon/tensor';
import { collectRollouts, connect, fromServiceError, Peers, remoteWorlds, startServer, taskToWire, unaryCall, type Episode, type RunningServer } from '@chameleon/transport';
import { PyPoint1dFamily } from './plugin';
import { INSTALL, PYTHON, pythonSimulatorStatus, startPythonSimulator, type PythonSimulator } from './python-process';
import { referenceConfig, ReferencePoint1d, referencePlugin } from './reference';

// jest cannot skip a describe block asynchronously: decide now, at module load.
const status = pythonSimulatorStatus();

const family = new PyPoint1dFamily();
const tasks = (n: number, seed = 1) => sampleTasks(family, { split: 'train', seed, start: 0, count: n });
const navigationTask = sampleTasks(new NavigationFamily(), { split: 'train', seed: 1, start: 0, count: 1 })[0];
const goal = (t: Task) => t.params.goal as number;
const sum = (x: ArrayLike<number>) => Array.from(x).reduce((a, b) => a + b, 0);
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Drives every world with actions that exercise termination (greedy), clipping and time limits. */
async function drive(w: Worlds, ts: readonly Task[], steps: number): Promise<TimeSteps[]> {
  const rng = Rng.fromKeys('drive', 1);
  const out = [await w.reset()];
  for (let t = 0; t < steps; t++) {
    const obs = out[out.length - 1].observations;
    const a = new Float32Array(w.numWorlds);
    for (let i = 0; i < w.numWorlds; i++) {
      const kind = i % 4;
      a[i] = kind === 0 ? goal(ts[i]) - obs[i] : kind === 1 ? rng.uniform(-0.5, 0.5) : kind === 2 ? 1e9 : -Infinity;
    }
    out.push(await w.step(a));
  }
  return out;
}

// The policy: Chameleon's gaussian-mlp, initialised by the TypeScript implementation.
const policyConfig = { observationSize: 1, actionSize: 1, hidden: [32, 32], activation: 'tanh' as const, initStd: 0.5 };
const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse(policyConfig));
const theta = policy.init(3);
const logStd = theta[theta.length - 1][0];
const wireParams = (values: Float32Array[] = theta) => paramsToWire(policy.spec.map((s) => s.name), policy.spec.map((s) => s.shape), values);
const rolloutTasks = tasks(4, 2);
const episodesOf = (n: number, perTask = 4) => Array.from({ length: n }, (_, i) => ({ task: i % perTask, episode: Math.floor(i / perTask) }));
const request = (over: Partial<StreamRolloutsRequest> = {}): StreamRolloutsRequest => ({
  environment: 'py-point-1d',
  environmentConfig: {},
  policy: { architecture: 'gaussian-mlp', config: policyConfig },
  policyParams: [wireParams()],
  tasks: rolloutTasks.map(taskToWire),
  episodes: episodesOf(40),
  horizon: 0,
  seed: 11,
  chunkSteps: 64,
  deterministic: false,
  parallelWorlds: 8,
  observeTask: false,
  ...over,
});

function stream(client: EnvironmentSimulatorServiceClient, req: StreamRolloutsRequest, options: Partial<grpc.CallOptions> = {}): Promise<TrajectoryChunk[]> {
  return new Promise((resolve, reject) => {
    const chunks: TrajectoryChunk[] = [];
    const call = client.streamRollouts(req, new grpc.Metadata(), options);
    call.on('data', (m: StreamRolloutsResponse) => chunks.push(m.chunk!));
    call.on('error', (e) => reject(fromServiceError(e, 'StreamRollouts')));
    call.on('end', () => resolve(chunks));
  });
}

/** Rows of all episodes, in one array per column. */
function rows(episodes: Iterable<Episode>) {
  const list = [...episodes];
  const cat = (pick: (e: Episode) => Float32Array) => Float32Array.from(list.flatMap((e) => Array.from(pick(e))));
  return { obs: cat((e) => e.observations), actions: cat((e) => e.actions), logProbs: cat((e) => e.logProbs), rewards: cat((e) => e.rewards) };
}

/** The environment's maths, checked on a streamed episode: x' = x + clip(a), r = -|x' - g|, discount 0 only at the goal. */
function checkEpisode(e: Episode, g: number, horizon = 50): void {
  expect(e.length).toBeGreaterThanOrEqual(1);
  expect(e.length).toBeLessThanOrEqual(horizon);
  expect(Number.isFinite(e.episodeReturn)).toBe(true);
  expect(e.episodeReturn).toBeCloseTo(sum(e.rewards), 3);
  expect(e.observations[0]).toBe(0);
  for (let t = 0; t < e.length; t++) {
    const next = e.observations[t] + Math.min(0.2, Math.max(-0.2, e.actions[t]));
    if (t + 1 < e.length) expect(e.observations[t + 1]).toBeCloseTo(next, 5);
    expect(e.rewards[t]).toBeCloseTo(-Math.abs(next - g), 5);
    const terminal = e.discounts[t] === 0;
    expect(terminal || e.discounts[t] === 1).toBe(true);
    if (terminal) expect(t).toBe(e.length - 1);
    if (terminal) expect(Math.abs(next - g)).toBeLessThan(0.01 + 1e-6);
  }
  if (e.length < horizon) expect(e.discounts[e.length - 1]).toBe(0);
}

const runConfig = () => loadRunConfig(join(__dirname, 'py-point-maml.yaml')) as RlRunConfig;

describe('py-point-maml.yaml', () => {
  it('is a kind: rl run config whose plugin registers the py-point-1d family and whose policy config is valid', () => {
    const config = runConfig();
    expect(isRlConfig(config)).toBe(true);
    const registry = new PluginRegistry();
    for (const p of config.plugins) loadPluginModule(registry, p);
    const drawn = sampleTasks(registry.create<TaskFamily>('task-family', config.task.family, config.task.config), { split: 'train', seed: 1, start: 0, count: 200 });
    expect(drawn.every((t) => Math.abs(goal(t)) <= 1)).toBe(true);
    expect(config.environment.name ?? config.task.family).toBe('py-point-1d');
    expect(() => gaussianMlpPolicyConfig.parse({ ...config.policy.config, observationSize: 1, actionSize: 1 })).not.toThrow();
  });
});

if (!status.ready) {
  const install = status.reason.includes('apt-get') ? '' : `\nInstall with: ${INSTALL}.`;
  console.warn(`Skipping the Python simulator tests (${PYTHON}; CHAMELEON_PYTHON selects another): ${status.reason}${install}`);
  describe.skip(`Python simulator (needs ${PYTHON} with grpc, numpy and protoc: ${INSTALL})`, () => {
    it('passes the environment contract and StreamRollouts checks through gRPC', () => undefined);
  });
} else {
  let python: PythonSimulator;
  let peers: Peers;
  let client: EnvironmentSimulatorServiceClient;

  beforeAll(async () => {
    python = await startPythonSimulator(['--max-world-sets', '40']);
    peers = new Peers({ taskSampler: '127.0.0.1:1', simulators: [python.address], learner: '127.0.0.1:1' });
    client = peers.simulators[0];
  });
  afterAll(async () => {
    peers?.close();
    if (python) expect(await python.stop()).toBe(0);
  });

  describeEnvironmentContract('py-point-1d (Python server.py via gRPC worlds)', () => remoteWorlds(peers, 'py-point-1d'), (n) => tasks(n), navigationTask);

  describe('Python worlds step exactly like libs/envs VectorEnv', () => {
    it('lists py-point-1d with its specs, element bounds and episode limit', async () => {
      const r = await peers.listEnvironments();
      expect(r.environments).toHaveLength(1);
      expect(r.environments[0]).toMatchObject({
        name: 'py-point-1d',
        supervised: false,
        maxEpisodeSteps: 50,
        observationSpec: { shape: [1] },
        actionSpec: { shape: [1], minimum: -0.2, maximum: 0.2, elementMinimum: [-0.2], elementMaximum: [0.2] },
      });
    });

    it("accepts the run config's environment and policy configs", async () => {
      const config = runConfig();
      const r = await unaryCall(client, client.createWorlds, { environment: 'py-point-1d', config: config.environment.config, numWorlds: 1, tasks: tasks(1).map(taskToWire), seed: 1 }, 'CreateWorlds');
      expect(r.maxEpisodeSteps).toBe(50);
      await unaryCall(client, client.closeWorlds, { worldSetId: r.worldSetId }, 'CloseWorlds');
      const policyCfg = { ...config.policy.config, observationSize: 1, actionSize: 1 };
      const p = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse(policyCfg));
      const params = paramsToWire(p.spec.map((s) => s.name), p.spec.map((s) => s.shape), p.init(1));
      const { episodes } = await collectRollouts([client], request({ environmentConfig: config.environment.config, policy: { architecture: 'gaussian-mlp', config: policyCfg }, policyParams: [params], episodes: episodesOf(8) }));
      expect(episodes.size).toBe(8);
    });

    it.each([
      ['default config', {}],
      ['horizon 7, goal tolerance 0.05', { horizon: 7, goalTolerance: 0.05 }],
    ])('gives identical time steps over several episodes (%s): FIRST/MID/LAST, discounts, clipping, auto-reset', async (_label, config) => {
      const ts = tasks(8, 5);
      const remote = await remoteWorlds(peers, 'py-point-1d', config)(ts, 8, 3);
      const local = await localWorlds(new ReferencePoint1d(referenceConfig.parse(config)))(ts, 8, 3);
      const a = await drive(remote, ts, 130);
      const b = await drive(local, ts, 130);
      expect(remote.spec).toEqual(local.spec);
      for (let t = 0; t < a.length; t++) {
        expect([t, Array.from(a[t].stepTypes)]).toEqual([t, Array.from(b[t].stepTypes)]);
        expect([t, Array.from(a[t].observations)]).toEqual([t, Array.from(b[t].observations)]);
        expect([t, Array.from(a[t].rewards)]).toEqual([t, Array.from(b[t].rewards)]);
        expect([t, Array.from(a[t].discounts)]).toEqual([t, Array.from(b[t].discounts)]);
      }
      // Both kinds of LAST happened, and worlds started again after them.
      const last = a.flatMap((s) => Array.from(s.stepTypes).map((k, i) => ({ k, d: s.discounts[i] }))).filter((x) => x.k === StepType.LAST);
      expect(last.some((x) => x.d === 0)).toBe(true);
      expect(last.some((x) => x.d === 1)).toBe(true);
      await remote.close();
      await local.close();
    });
  });

  describe('Python world sets: errors name the field', () => {
    const create = (over: Record<string, unknown> = {}) =>
      unaryCall(client, client.createWorlds, { environment: 'py-point-1d', config: {}, numWorlds: 2, tasks: tasks(1).map(taskToWire), seed: 1, ...over }, 'CreateWorlds', { retries: 0 });

    it('refuses bad actions, sizes, tasks and configs with INVALID_ARGUMENT', async () => {
      const r = await create();
      await unaryCall(client, client.resetWorlds, { worldSetId: r.worldSetId, tasks: [] }, 'ResetWorlds');
      const step = (actions: ReturnType<typeof toWire>) => rejection(unaryCall(client, client.stepWorlds, { worldSetId: r.worldSetId, actions }, 'StepWorlds', { retries: 0 }));
      expect(await step(toWire({ dtype: 'float32', shape: [3, 1], data: new Float32Array(3) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/actions: must have shape \[2, 1\], got \[3, 1\]/) });
      expect(await step(toWire({ dtype: 'int32', shape: [2, 1], data: new Int32Array(2) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/actions\.dtype: must be float32, got int32/) });
      expect(await step({ ...toWire({ dtype: 'float32', shape: [2, 1], data: new Float32Array(2) }), data: Buffer.alloc(4) })).toMatchObject({ message: expect.stringMatching(/actions\.data: shape \[2, 1\] of float32 needs 8 bytes, got 4/) });
      expect(await step(toWire({ dtype: 'float32', shape: [2, 1], data: Float32Array.from([0, NaN]) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/actions: element 1 is NaN/) });
      expect(await rejection(create({ numWorlds: 0 }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/num_worlds: must be an integer >= 1/) });
      expect(await rejection(create({ numWorlds: 100_000 }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/num_worlds: at most 4096/) });
      expect(await rejection(create({ tasks: [] }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/tasks/) });
      expect(await rejection(create({ tasks: tasks(3).map(taskToWire) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/tasks: give one task or one per world \(2\), got 3/) });
      expect(await rejection(create({ tasks: [taskToWire({ ...tasks(1)[0], params: { goal: 'far' } })] }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/tasks\[0\]\.params\.goal: must be a finite number/) });
      expect(await rejection(create({ tasks: [taskToWire(navigationTask)] }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/tasks\[0\]\.family/) });
      expect(await rejection(create({ config: { horizon: 0 } }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/config\.horizon/) });
      expect(await rejection(create({ config: { horizn: 10 } }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/config: unknown key 'horizn'/) });
      expect((await rejection(create({ environment: 'point-typo' }))).code).toBe('NOT_FOUND');
      const supervised = unaryCall(client, client.sampleSupervised, { tasks: tasks(1).map(taskToWire), supportSize: 5, querySize: 5, seed: 1, queryInputs: undefined, sourceConfig: {} }, 'SampleSupervised', { retries: 0 });
      expect(await rejection(supervised)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/sequential environment/) });
      await unaryCall(client, client.closeWorlds, { worldSetId: r.worldSetId }, 'CloseWorlds');
    });

    it('answers closed world sets with NOT_FOUND and bounds open sets with RESOURCE_EXHAUSTED', async () => {
      const r = await create();
      await unaryCall(client, client.closeWorlds, { worldSetId: r.worldSetId }, 'CloseWorlds');
      const gone = await rejection(unaryCall(client, client.resetWorlds, { worldSetId: r.worldSetId, tasks: [] }, 'ResetWorlds', { retries: 0 }));
      expect(gone).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/world_set_id: no world set/) });
      const ids: string[] = [];
      let error: { code: string; message: string } | undefined;
      for (let i = 0; i < 50 && !error; i++) {
        try {
          ids.push((await create()).worldSetId);
        } catch (e) {
          error = e as { code: string; message: string };
        }
      }
      expect(error).toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/world_set_id: at most 40 world sets/) });
      for (const id of ids) await unaryCall(client, client.closeWorlds, { worldSetId: id }, 'CloseWorlds');
      expect((await create()).worldSetId).toBeTruthy();
    });
  });

  describe('StreamRollouts with gaussian-mlp, next to the Python simulator', () => {
    it('collects every requested episode exactly once and complete, with finite returns', async () => {
      const req = request();
      const { episodes, stats } = await collectRollouts([client], req);
      expect(stats).toEqual({ streams: 1, failures: 0, lostReplicas: 0, lost: [] });
      expect([...episodes.keys()].sort()).toEqual(req.episodes.map((e) => `${e.task}/${e.episode}`).sort());
      for (const e of episodes.values()) checkEpisode(e, goal(rolloutTasks[e.ref.task]));
    });

    it('streams contiguous per-episode segments in chunks of at most chunk_steps rows', async () => {
      const chunks = await stream(client, request({ chunkSteps: 32, parallelWorlds: 5 }));
      const next = new Map<string, number>();
      const complete = new Map<string, number>();
      for (const c of chunks) {
        const n = c.rewards!.shape[0];
        expect(n).toBeLessThanOrEqual(32);
        expect(fromWire(c.observations, 'o').shape).toEqual([n, 1]);
        const types = fromWire(c.stepTypes, 's', ['uint8']).data;
        let offset = 0;
        for (const s of c.segments) {
          expect(s.offset).toBe(offset); // segments tile the chunk in order
          offset += s.length;
          const key = `${s.episode!.task}/${s.episode!.episode}`;
          expect(complete.has(key)).toBe(false);
          expect(s.startStep).toBe(next.get(key) ?? 0); // contiguous across chunks
          next.set(key, s.startStep + s.length);
          for (let r = 0; r < s.length; r++) expect(types[s.offset + r]).toBe(s.startStep + r === 0 ? StepType.FIRST : StepType.MID);
          if (s.complete) complete.set(key, s.episodeReturn);
        }
        expect(offset).toBe(n);
      }
      expect(complete.size).toBe(40);
      expect([...complete.values()].every(Number.isFinite)).toBe(true);
    });

    it("acts like the TypeScript gaussian-mlp: log-probs of the unclipped actions, standard normal noise", async () => {
      const { episodes } = await collectRollouts([client], request({ episodes: episodesOf(80) }));
      const { obs, actions, logProbs } = rows(episodes.values());
      const n = obs.length;
      const mean = policy.act(theta, obs, n, Rng.fromKeys('unused'), true).actions;
      const z = Array.from(actions, (a, i) => (a - mean[i]) / Math.exp(logStd));
      z.forEach((zi, i) => expect(logProbs[i]).toBeCloseTo(-0.5 * zi * zi - logStd - HALF_LOG_2PI, 4));
      expect(actions.some((a) => Math.abs(a) > 0.2)).toBe(true); // unclipped actions are streamed
      const m = sum(z) / n;
      const v = sum(z.map((x) => (x - m) ** 2)) / (n - 1);
      expect(Math.abs(m)).toBeLessThan(4 / Math.sqrt(n));
      expect(Math.abs(v - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    });

    it("acts with the TypeScript policy's mean when deterministic, and per task when given one list per task", async () => {
      const { episodes } = await collectRollouts([client], request({ deterministic: true }));
      const { obs, actions, logProbs } = rows(episodes.values());
      const mean = policy.act(theta, obs, obs.length, Rng.fromKeys('unused'), true).actions;
      actions.forEach((a, i) => expect(a).toBeCloseTo(mean[i], 5));
      logProbs.forEach((lp) => expect(lp).toBeCloseTo(-logStd - HALF_LOG_2PI, 5));

      const shifted = theta.map((v) => v.slice());
      shifted[policy.spec.findIndex((s) => s.name === 'layer2/bias')][0] += 0.05;
      const perTask = await collectRollouts([client], request({ deterministic: true, tasks: rolloutTasks.slice(0, 2).map(taskToWire), policyParams: [wireParams(), wireParams(shifted)], episodes: [{ task: 0, episode: 0 }, { task: 1, episode: 0 }] }));
      expect(perTask.episodes.get('1/0')!.actions[0] - perTask.episodes.get('0/0')!.actions[0]).toBeCloseTo(0.05, 5);
    });

    it('reproduces any episode exactly, alone or in another batch', async () => {
      const all = await collectRollouts([client], request());
      const one = await collectRollouts([client], request({ episodes: [{ task: 2, episode: 3 }], parallelWorlds: 1, chunkSteps: 32 }));
      expect(Array.from(one.episodes.get('2/3')!.actions)).toEqual(Array.from(all.episodes.get('2/3')!.actions));
      expect(Array.from(one.episodes.get('2/3')!.rewards)).toEqual(Array.from(all.episodes.get('2/3')!.rewards));
    });

    it('rejects bad requests before streaming, naming the field', async () => {
      const bad = (over: Partial<StreamRolloutsRequest>) => rejection(stream(client, request(over)));
      expect(await bad({ chunkSteps: 8 })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/chunk_steps/) });
      expect(await bad({ episodes: [{ task: 0, episode: 1 }, { task: 0, episode: 1 }] })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/episodes\[1\]: episode 0\/1 is listed twice/) });
      expect(await bad({ episodes: [{ task: 7, episode: 0 }] })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/episodes\[0\]\.task/) });
      expect(await bad({ episodes: [] })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/episodes/) });
      expect(await bad({ policy: { architecture: 'gaussian-mlp', config: { ...policyConfig, observationSize: 2 } } })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/policy\.config\.observationSize: must be 1/) });
      expect(await bad({ policy: { architecture: 'gaussian-mlp', config: { ...policyConfig, activation: 'sigmoid' } } })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/policy\.config\.activation/) });
      expect((await bad({ policy: { architecture: 'nope', config: {} } })).code).toBe('NOT_FOUND');
      const missing = paramsToWire(['layer0/weight'], [[1, 32]], [theta[0]]);
      expect(await bad({ policyParams: [missing] })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/policy_params\[0\]: missing layer0\/bias/) });
      const nan = theta.map((v) => v.slice());
      nan[1][3] = NaN;
      expect(await bad({ policyParams: [wireParams(nan)] })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/policy_params\[0\]\.tensors\[1\]: layer0\/bias element 3 is not finite/) });
      expect(await bad({ policyParams: [wireParams(), wireParams()] })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/one per task/) });
      expect(await bad({ tasks: [taskToWire(navigationTask)], episodes: [{ task: 0, episode: 0 }] })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/tasks\[0\]\.family/) });
      expect(await bad({ environmentConfig: { horizon: -1 } })).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/environment_config\.horizon/) });
    });

    it('stops at the deadline with DEADLINE_EXCEEDED, and when the client cancels', async () => {
      const many = request({ episodes: episodesOf(3000), horizon: 100 });
      expect((await rejection(stream(client, many, { deadline: Date.now() + 300 }))).code).toBe('DEADLINE_EXCEEDED');
      const received = await new Promise<number>((resolve) => {
        let n = 0;
        const call = client.streamRollouts(many);
        call.on('data', () => {
          if (++n === 3) call.cancel();
        });
        call.on('error', () => resolve(n));
        call.on('end', () => resolve(n));
      });
      expect(received).toBeGreaterThanOrEqual(3);
      expect(received).toBeLessThan(100);
      expect((await peers.listEnvironments()).environments).toHaveLength(1); // still serving
    });
  });

  describe("statistically equivalent to Chameleon's own simulator running the same policy", () => {
    let reference: RunningServer;
    let referenceClient: EnvironmentSimulatorServiceClient;
    beforeAll(async () => {
      const registry = new PluginRegistry().registerAll([referencePlugin, gaussianMlpPolicyPlugin]);
      reference = await startServer({ label: 'reference', services: [environmentSimulatorService(registry)], port: 0, log: () => undefined });
      referenceClient = connect(EnvironmentSimulatorServiceClient, reference.address);
    });
    afterAll(async () => {
      referenceClient?.close();
      await reference?.shutdown(1000);
    });

    it('gives the same deterministic trajectories', async () => {
      const req = request({ deterministic: true });
      const [py, ts] = await Promise.all([collectRollouts([client], req), collectRollouts([referenceClient], req)]);
      for (const [key, e] of ts.episodes) {
        const p = py.episodes.get(key)!;
        expect(p.length).toBe(e.length);
        p.actions.forEach((a, t) => expect(a).toBeCloseTo(e.actions[t], 4));
        expect(p.episodeReturn).toBeCloseTo(e.episodeReturn, 3);
      }
    });

    it('appends the goal to every observation with observe_task, like TaskObservingEnvironment', async () => {
      const oracleConfig = { ...policyConfig, observationSize: 2 };
      const oracle = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse(oracleConfig));
      const params = paramsToWire(oracle.spec.map((s) => s.name), oracle.spec.map((s) => s.shape), oracle.init(5));
      const req = request({ observeTask: true, deterministic: true, policy: { architecture: 'gaussian-mlp', config: oracleConfig }, policyParams: [params] });
      const [py, ts] = await Promise.all([collectRollouts([client], req), collectRollouts([referenceClient], req)]);
      for (const [key, e] of py.episodes) {
        const g = Math.fround(goal(rolloutTasks[e.ref.task]));
        for (let t = 0; t < e.length; t++) expect(e.observations[2 * t + 1]).toBe(g);
        expect(Array.from(e.observations)).toEqual(Array.from(ts.episodes.get(key)!.observations));
      }
      const wrongSize = await rejection(stream(client, request({ observeTask: true })));
      expect(wrongSize).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/policy\.config\.observationSize: must be 2 for "py-point-1d\+task", got 1/) });
    });

    it('gives the same distribution of returns, lengths and log-probabilities when sampling', async () => {
      const tasks8 = tasks(8, 4);
      const req = request({ tasks: tasks8.map(taskToWire), episodes: episodesOf(240, 8) });
      const [py, ts] = await Promise.all([collectRollouts([client], req), collectRollouts([referenceClient], req)]);
      const stats = (x: number[]) => {
        const m = sum(x) / x.length;
        return { m, se2: sum(x.map((v) => (v - m) ** 2)) / (x.length - 1) / x.length };
      };
      const agree = (a: number[], b: number[]) => {
        const [s, t] = [stats(a), stats(b)];
        expect(Math.abs(s.m - t.m)).toBeLessThan(4 * Math.sqrt(s.se2 + t.se2) + 1e-9);
      };
      const perEpisode = (r: typeof py, f: (e: Episode) => number) => [...r.episodes.values()].map(f);
      agree(perEpisode(py, (e) => e.episodeReturn), perEpisode(ts, (e) => e.episodeReturn));
      agree(perEpisode(py, (e) => e.length), perEpisode(ts, (e) => e.length));
      agree(perEpisode(py, (e) => sum(e.logProbs) / e.length), perEpisode(ts, (e) => sum(e.logProbs) / e.length));
    });
  });

  describe('process', () => {
    it('shuts down gracefully on SIGTERM, even with a stream in flight', async () => {
      const other = await startPythonSimulator(['--shutdown-grace-seconds', '1']);
      const c = connect(EnvironmentSimulatorServiceClient, other.address);
      const inFlight = stream(c, request({ episodes: episodesOf(3000), horizon: 100 })).catch((e) => e);
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      expect(await other.stop()).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(other.stderr()).toMatch(/SIGTERM: shutting down[\s\S]*stopped/);
      await inFlight;
      c.close();
    });
  });
}
