import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createRegistry } from '@chameleon/builtins';
import { initBackend } from '@chameleon/nn';
import { AgentServiceClient, StepType } from '@chameleon/proto';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig } from '@chameleon/rl';
import { paramsToWire } from '@chameleon/tensor';
import { bearer, connect, saveCheckpoint, startServer, tokenAuthInterceptor, unaryCall, CHECKPOINT_FORMAT_VERSION, type RunningServer } from '@chameleon/transport';
import { healthStatus, rejection } from '@chameleon/transport/src/testing';
import { agentContext } from './context';
import { liveSessions } from './play';
import { agentServerService, fieldAgents } from './service';
import { PlayClient } from '@chameleon/transport';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const TOKEN = 's3cret-token';
let server: RunningServer;
let client: AgentServiceClient;
let service: ReturnType<typeof agentServerService>;
const dir = mkdtempSync(join(tmpdir(), 'chameleon-agent-'));
const checkpoint = join(dir, 'policy.ckpt');

beforeAll(async () => {
  await initBackend('wasm');
  const policyConfig = gaussianMlpPolicyConfig.parse({ observationSize: 2, actionSize: 2, hidden: [16] });
  const policy = new GaussianMlpPolicy(policyConfig);
  saveCheckpoint(checkpoint, {
    formatVersion: CHECKPOINT_FORMAT_VERSION, runId: 'test', config: {}, phase: 'done', iteration: 1,
    params: paramsToWire(policy.spec.map((s) => s.name), policy.spec.map((s) => [...s.shape]), policy.init(1)),
    optimiser: undefined, baselineIteration: 0, baselineParams: undefined, baselineOptimiser: undefined,
    model: { architecture: 'gaussian-mlp', config: policyConfig as unknown as Record<string, unknown> }, backend: 'wasm', createdUnixMs: 0, trainees: [],
  });
  const registry = createRegistry();
  const agents = fieldAgents(
    [
      { name: 'adapter', plugin: 'meta-adapter', config: { checkpoint } },
      { name: 'fixed', plugin: 'fixed-policy', config: { checkpoint } },
      { name: 'still', plugin: 'scripted-still' },
    ],
    registry,
    agentContext(registry),
  );
  service = agentServerService(agents);
  server = await startServer({ label: 'agent-server', services: [service], port: 0, interceptors: [tokenAuthInterceptor([TOKEN])] });
  client = connect(AgentServiceClient, server.address);
});
afterAll(async () => {
  client.close();
  await server.shutdown(1000);
});

const obs = (x: number, y: number) => Float32Array.from([x, y]);

/** Plays `episodes` episodes of `length` steps and ends the round. */
async function playRound(p: PlayClient, round: number, episodes = 2, length = 5) {
  let step = 0;
  for (let e = 0; e < episodes; e++) {
    for (let t = 0; t <= length; t++) {
      const type = t === 0 ? StepType.STEP_TYPE_FIRST : t === length ? StepType.STEP_TYPE_LAST : StepType.STEP_TYPE_MID;
      const r = await p.observe(step++, obs(0.1 * t, -0.1 * t), type, -t);
      expect(r?.message?.$case).toBe('act');
      if (r?.message?.$case === 'act') expect(r.message.act.action === undefined).toBe(type === StepType.STEP_TYPE_LAST);
    }
  }
  return p.endRound(round, Array.from({ length: episodes }, () => 1));
}

describe('agent-server', () => {
  it('refuses calls without a valid token with UNAUTHENTICATED, and keeps health open', async () => {
    expect((await rejection(unaryCall(client, client.listAgents, {}, 'ListAgents', { retries: 0 }))).code).toBe('UNAUTHENTICATED');
    expect((await rejection(unaryCall(client, client.listAgents, {}, 'ListAgents', { retries: 0, metadata: bearer('wrong') }))).code).toBe('UNAUTHENTICATED');
    const p = new PlayClient(client);
    expect(await p.join('adapter')).toBeUndefined();
    expect(p.error?.code).toBe('UNAUTHENTICATED');
    expect(await healthStatus(server.address, '')).toBe('SERVING');
    const list = await unaryCall(client, client.listAgents, {}, 'ListAgents', { metadata: bearer(TOKEN) });
    expect(list.agents.map((a) => `${a.name}:${a.plugin}`)).toEqual(['adapter:meta-adapter', 'fixed:fixed-policy', 'still:scripted-still']);
  });

  it('plays rounds: an action per step, none after LAST, adaptation after each round', async () => {
    const p = new PlayClient(client, bearer(TOKEN));
    const joined = await p.join('adapter', 'alice');
    expect(joined?.message?.$case).toBe('joined');
    for (let round = 0; round < 3; round++) {
      const r = await playRound(p, round);
      expect(r?.message?.$case === 'adapted' && r.message.adapted).toMatchObject({ round, episodesUsed: Math.min(4, 2 * (round + 1)) });
    }
    p.close();
  });

  it('answers a malformed observation with INVALID_ARGUMENT and the match goes on', async () => {
    const p = new PlayClient(client, bearer(TOKEN));
    await p.join('fixed');
    await p.observe(0, obs(0, 0), StepType.STEP_TYPE_FIRST);
    const bad = await p.observe(1, Float32Array.from([1, 2, 3]), StepType.STEP_TYPE_MID);
    expect(bad?.message?.$case === 'error' && bad.message.error).toMatchObject({ code: 3, step: 1, message: expect.stringMatching(/observe.observation: must hold 2 values/) });
    const nan = await p.observe(2, obs(NaN, 0), StepType.STEP_TYPE_MID);
    expect(nan?.message?.$case === 'error' && nan.message.error.message).toMatch(/not finite/);
    const ok = await p.observe(3, obs(0.2, 0.1), StepType.STEP_TYPE_MID);
    expect(ok?.message?.$case).toBe('act');
    p.close();
  });

  it('refuses steps before joining (the match goes on) and an unknown agent (the stream ends)', async () => {
    const p = new PlayClient(client, bearer(TOKEN));
    const early = await p.observe(0, obs(0, 0), StepType.STEP_TYPE_FIRST);
    expect(early?.message?.$case === 'error' && early.message.error).toMatchObject({ code: 9, message: expect.stringMatching(/JoinMatch first/) });
    const q = new PlayClient(client, bearer(TOKEN));
    expect(await q.join('nobody')).toBeUndefined();
    expect(q.error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no agent "nobody"/) });
    p.close();
  });

  it('frees the session when an opponent disconnects mid-round: memory flat over 1,000 connects', async () => {
    const cycle = async () => {
      const p = new PlayClient(client, bearer(TOKEN));
      await p.join('adapter');
      await p.observe(0, obs(0, 0), StepType.STEP_TYPE_FIRST);
      await p.observe(1, obs(0.1, 0), StepType.STEP_TYPE_MID);
      p.cancel();
    };
    for (let i = 0; i < 100; i++) await cycle();
    await new Promise((r) => setTimeout(r, 200));
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1000; i++) await cycle();
    await new Promise((r) => setTimeout(r, 500));
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(liveSessions.size).toBe(0);
    expect(service.metrics.snapshot().sessions).toBe(0);
    // 1,000 leaked sessions (each with a recorder and policy state) would hold far more than this.
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  }, 120_000);

  it('serves 32 concurrent opponents without errors', async () => {
    const players = Array.from({ length: 32 }, () => new PlayClient(client, bearer(TOKEN)));
    const results = await Promise.all(
      players.map(async (p, i) => {
        await p.join(i % 2 ? 'adapter' : 'fixed', `opponent-${i}`);
        for (let round = 0; round < 3; round++) await playRound(p, round, 2, 20);
        p.close();
        return p.error;
      }),
    );
    expect(results.filter(Boolean)).toEqual([]);
    const m = service.metrics.snapshot();
    expect(m.actionP99Ms).toBeLessThan(50);
  }, 120_000);
});
