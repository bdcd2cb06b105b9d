/**
 * `npm run bench -- agents [--seconds 60] [--opponents 32] [--modes worker,inline] [--workers 2] [--steps 100] [--episodes 2]`
 *
 * Load benchmark of the agent-server on loopback: a child process serves the meta-adapter
 * (a "gaussian-mlp-step-sizes" policy of RoboSumo's size, 98 -> 64 -> 64 -> 8, learned alpha
 * per parameter) behind token auth; this process runs `opponents` concurrent Play streams for
 * `seconds`, each playing rounds of `episodes` episodes of `steps` steps with random
 * observations, then EndRound (the agent adapts: eq. 9 on the 4 most recent episodes). Opponent i
 * starts i x stagger / opponents ms late, so rounds do not all end at once.
 * Reported: server-side action handling p50/p99 and adaptation time (the server's metrics),
 * client round-trip p50/p99 per Observe (includes the wait behind other streams' work, gRPC
 * and this process's scheduling), errors. Modes: adaptation in `workers` worker threads
 * (AdaptationPool) or inline on the event loop; `solo` times the update alone. Results: BENCHMARKS.md, section "Agent server".
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const TOKEN = 'bench-token';
const OBS = 98;

interface Snapshot {
  actions: number;
  actionP50Ms: number;
  actionP99Ms: number;
  adaptations: number;
  adaptationP50Ms: number;
  adaptationP99Ms: number;
}

/** The server side (child process): checkpoint, agent-server, metrics on request. */
async function serve(mode: string, workers: number): Promise<void> {
  const { initBackend } = require('@chameleon/nn') as typeof import('@chameleon/nn');
  const { createRegistry } = require('@chameleon/builtins') as typeof import('@chameleon/builtins');
  const { StepSizePolicy, stepSizePolicyConfig } = require('@chameleon/rl') as typeof import('@chameleon/rl');
  const { paramsToWire } = require('@chameleon/tensor') as typeof import('@chameleon/tensor');
  const { saveCheckpoint, startServer, tokenAuthInterceptor, CHECKPOINT_FORMAT_VERSION } = require('@chameleon/transport') as typeof import('@chameleon/transport');
  const { agentContext, agentServerService, fieldAgents, AdaptationPool } = require('../../apps/agent-server/src') as typeof import('../../apps/agent-server/src');
  await initBackend('wasm');
  const config = stepSizePolicyConfig.parse({ observationSize: OBS, actionSize: 8, hidden: [64, 64], initStd: 0.5 });
  const policy = new StepSizePolicy(config);
  const dir = mkdtempSync(join(tmpdir(), 'chameleon-bench-agents-'));
  const checkpoint = join(dir, 'sumo-meta.ckpt');
  saveCheckpoint(checkpoint, {
    formatVersion: CHECKPOINT_FORMAT_VERSION, runId: 'bench', config: {}, phase: 'done', iteration: 0,
    params: paramsToWire(policy.spec.map((s) => s.name), policy.spec.map((s) => [...s.shape]), policy.init(1)),
    optimiser: undefined, baselineIteration: 0, baselineParams: undefined, baselineOptimiser: undefined,
    model: { architecture: 'gaussian-mlp-step-sizes', config: config as unknown as Record<string, unknown> }, backend: 'wasm', createdUnixMs: 0, trainees: [],
  });
  const registry = createRegistry();
  const pool = mode === 'worker' ? new AdaptationPool(workers, 'wasm') : undefined;
  await pool?.ready();
  const ctx = agentContext(registry, pool ? { offloadAdaptation: (job) => pool.run(job) } : {});
  const service = agentServerService(fieldAgents([{ name: 'meta', plugin: 'meta-adapter', config: { checkpoint, recentEpisodes: 4 } }], registry, ctx));
  const server = await startServer({ label: 'agent-server', services: [service], port: 0, interceptors: [tokenAuthInterceptor([TOKEN])] });
  process.on('message', async (m: string) => {
    if (m === 'metrics') process.send?.({ metrics: service.metrics.snapshot() });
    if (m === 'stop') {
      await server.shutdown(1000);
      await pool?.close();
      process.exit(0);
    }
  });
  process.send?.({ address: server.address });
}

const pct = (xs: Float64Array, n: number, p: number) => {
  const s = Array.from(xs.subarray(0, n)).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

const ask = <T>(child: ChildProcess, msg: string, key: string) =>
  new Promise<T>((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', on);
        resolve(m[key] as T);
      }
    };
    child.on('message', on);
    if (msg) child.send(msg);
  });

/** One mode: a fresh server process, `opponents` streams for `seconds`. */
async function loadRun(mode: string, seconds: number, opponents: number, steps: number, episodes: number, stagger: number, workers: number) {
  const child = fork(__filename, ['--serve', mode, String(workers)], { execArgv: ['-r', '@swc-node/register'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const address = await ask<string>(child, '', 'address');
  const { connect, bearer, PlayClient } = require('@chameleon/transport') as typeof import('@chameleon/transport');
  const { AgentServiceClient, StepType } = require('@chameleon/proto') as typeof import('@chameleon/proto');
  const client = connect(AgentServiceClient, address);
  const rtt = new Float64Array(2_000_000);
  let n = 0;
  let errors = 0;
  let rounds = 0;
  const load0 = loadavg()[0];
  const deadline = performance.now() + seconds * 1000;
  const player = async (i: number) => {
    // Opponents do not play in lockstep: staggered starts spread the rounds' ends over time.
    await new Promise((r) => setTimeout(r, (i * stagger) / opponents));
    const p = new PlayClient(client, bearer(TOKEN));
    await p.join('meta', `opponent-${i}`, episodes);
    const obs = new Float32Array(OBS);
    let step = 0;
    for (let round = 0; performance.now() < deadline; round++) {
      for (let e = 0; e < episodes; e++) {
        for (let t = 0; t <= steps; t++) {
          for (let j = 0; j < OBS; j++) obs[j] = Math.sin(0.01 * (step + 7 * j + 13 * i));
          const type = t === 0 ? StepType.STEP_TYPE_FIRST : t === steps ? StepType.STEP_TYPE_LAST : StepType.STEP_TYPE_MID;
          const t0 = performance.now();
          const r = await p.observe(step++, obs, type, Math.cos(0.1 * t));
          if (n < rtt.length) rtt[n++] = performance.now() - t0;
          if (r?.message?.$case !== 'act') errors++;
        }
      }
      const r = await p.endRound(round, Array.from({ length: episodes }, () => 0));
      if (r?.message?.$case !== 'adapted') errors++;
      rounds++;
    }
    p.close();
    if (p.error) errors++;
  };
  await Promise.all(Array.from({ length: opponents }, (_, i) => player(i)));
  const server = await ask<Snapshot>(child, 'metrics', 'metrics');
  child.send('stop');
  client.close();
  return {
    mode,
    workers: mode === 'worker' ? workers : 0,
    seconds,
    opponents,
    steps,
    episodesPerRound: episodes,
    staggerMs: stagger,
    observes: n,
    observesPerSecond: n / seconds,
    rounds,
    errors,
    clientRttP50Ms: pct(rtt, n, 50),
    clientRttP99Ms: pct(rtt, n, 99),
    server,
    loadAverage: [load0, loadavg()[0]],
  };
}

/**
 * The eq. 9 update alone, in this process (no server, no concurrency): `calls` updates on the
 * same 4 episodes of `steps` steps (nothing cached), then `calls` updates as one session's
 * rounds see them (the 4 most recent episodes, 2 new per round) with a cache of episodes'
 * baseline matrices, as a worker keeps.
 */
async function soloUpdate(steps: number, calls: number) {
  const { initBackend } = require('@chameleon/nn') as typeof import('@chameleon/nn');
  const { NormalMatrixCache, StepSizePolicy, stepSizePolicyConfig } = require('@chameleon/rl') as typeof import('@chameleon/rl');
  const { importanceCorrectedUpdate } = require('@chameleon/agents') as typeof import('@chameleon/agents');
  const { Rng } = require('@chameleon/core') as typeof import('@chameleon/core');
  await initBackend('wasm');
  const policy = new StepSizePolicy(stepSizePolicyConfig.parse({ observationSize: OBS, actionSize: 8, hidden: [64, 64], initStd: 0.5 }));
  const { policy: theta, alpha } = policy.split(policy.init(1));
  const rng = new Rng(1);
  const episodes = Array.from({ length: 2 * calls + 2 }, () => {
    const observations = new Float32Array(steps * OBS).map(() => rng.normal());
    const r = policy.base.act(theta, observations, steps, rng);
    return { length: steps, observations, actions: r.actions, logProbs: r.logProbs, rewards: new Float32Array(steps).map(() => rng.normal()), discounts: new Float32Array(steps).fill(1) };
  });
  const ms = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    importanceCorrectedUpdate(policy.base, theta, alpha, episodes.slice(0, 4), 0.99);
    ms[i] = performance.now() - t0;
  }
  const cache = new NormalMatrixCache();
  const cached = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    importanceCorrectedUpdate(policy.base, theta, alpha, episodes.slice(2 * i, 2 * i + 4), 0.99, cache);
    cached[i] = performance.now() - t0;
  }
  return {
    mode: 'solo',
    calls,
    rows: 4 * steps,
    updateP50Ms: pct(ms.subarray(1), calls - 1, 50),
    updateP99Ms: pct(ms.subarray(1), calls - 1, 99),
    cachedUpdateP50Ms: pct(cached.subarray(1), calls - 1, 50),
    cachedUpdateP99Ms: pct(cached.subarray(1), calls - 1, 99),
    loadAverage: loadavg()[0],
  };
}

export async function runAgents(argv: string[]): Promise<number> {
  const arg = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
  };
  const seconds = Number(arg('seconds', '60'));
  const opponents = Number(arg('opponents', '32'));
  const steps = Number(arg('steps', '100'));
  const episodes = Number(arg('episodes', '2'));
  const stagger = Number(arg('stagger-ms', '2000'));
  // As the agent-server's default pool (apps/agent-server/src/context.ts).
  const workers = Number(arg('workers', '2'));
  const results = [];
  for (const mode of arg('modes', 'solo,worker,inline').split(',')) {
    if (mode === 'solo') {
      const r = await soloUpdate(steps, 101);
      console.log(
        `solo: eq. 9 update on ${r.rows} rows alone: p50 ${r.updateP50Ms.toFixed(1)} ms, p99 ${r.updateP99Ms.toFixed(1)} ms; ` +
          `as a session's rounds (2 of 4 episodes' baseline matrices cached): p50 ${r.cachedUpdateP50Ms.toFixed(1)} ms, p99 ${r.cachedUpdateP99Ms.toFixed(1)} ms (load ${r.loadAverage.toFixed(1)})`,
      );
      results.push(r);
      continue;
    }
    const r = await loadRun(mode, seconds, opponents, steps, episodes, stagger, workers);
    console.log(
      `${mode}${r.workers ? ` (${r.workers} worker${r.workers > 1 ? 's' : ''})` : ''}: ${r.observes} actions (${r.observesPerSecond.toFixed(0)}/s), ${r.rounds} rounds, ${r.errors} errors; server action p50 ${r.server.actionP50Ms.toFixed(3)} ms p99 ${r.server.actionP99Ms.toFixed(3)} ms; ` +
        `client RTT p50 ${r.clientRttP50Ms.toFixed(2)} ms p99 ${r.clientRttP99Ms.toFixed(2)} ms; adaptation p50 ${r.server.adaptationP50Ms.toFixed(1)} ms p99 ${r.server.adaptationP99Ms.toFixed(1)} ms; load ${r.loadAverage.map((x) => x.toFixed(1)).join(' -> ')}`,
    );
    results.push(r);
  }
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `agents-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), results }, null, 1)}\n`);
  console.log(`wrote ${file}`);
  return results.some((r) => 'errors' in r && r.errors > 0) ? 1 : 0;
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3], Number(process.argv[4] ?? 1)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
