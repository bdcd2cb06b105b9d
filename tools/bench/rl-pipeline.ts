/**
 * `npm run bench -- rl`: the meta-RL pipeline on HalfCheetahVel (BENCHMARKS.md, "Meta-RL").
 *
 *   npm run bench -- rl [--repeats 5] [--episodes 200 (a multiple of 20)] [--only a,b,c,d,e] [--no-steps]
 *     [--no-phases] [--phase-iterations 4] [--no-learner] [--quick]
 *
 * 1. Env steps/s of one rollout phase of the reduced reproduction (`--episodes` episodes of
 *    200 steps, 20 tasks, Gaussian MLP 100-100 tanh acting with one parameter list, 64 worlds
 *    per wave, chunks of 128 steps):
 *    (a) raw in-process stepping: VectorEnv of 64 worlds, pre-drawn random actions;
 *    (b) rollouts with actor-side inference in-process: the simulator's runRollouts, chunks
 *        dropped;
 *    (c) streamed through one simulator process (`chameleon serve environment-simulator`)
 *        into this process, which does what the meta-optimiser does with them
 *        (collectRollouts, then episodesToBatches);
 *    (d) as (c) with two simulator processes (the episodes split between them);
 *    (e) as (c) with the simulator embedded in this process (what `chameleon train` without
 *        --services runs: one process, loopback gRPC).
 *    This process is traced as `chameleon train` traces the meta-optimiser (main.ts sets it
 *    up); the simulator processes run as `chameleon serve` runs them.
 *    Cells are measured round-robin `repeats` times (median, min-max), after a warm-up of
 *    every cell, so that a change in load hits all of them alike.
 * 2. The wall time of one meta-iteration of configs/halfcheetah-vel-maml.yaml (baseline and
 *    evaluation off), split by phase from the run's traces: medians over iterations 2..N.
 * 3. The learner's steps, fused vs generic (tools/bench/rl.ts --reference).
 * Besides wall-clock rates, each cell reports env steps per CPU-second of this process and
 * the simulator processes together (from process.cpuUsage and /proc/<pid>/stat): a cost that
 * holds up under load from other jobs, where wall-clock rates do not.
 * Results: tools/bench/results/rl-pipeline-<time>.json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Rng } from '@chameleon/core';
import { createRegistry } from '@chameleon/builtins';
import { VectorEnv } from '@chameleon/envs';
import { HalfCheetahVelFamily, ensureMujoco, halfCheetahVelEnv } from '@chameleon/envs/src/mujoco';
import { initBackend } from '@chameleon/nn';
import { EnvironmentSimulatorServiceClient, type StreamRolloutsRequest } from '@chameleon/proto';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig } from '@chameleon/rl';
import { sampleTasks } from '@chameleon/tasks';
import { paramsToWire } from '@chameleon/tensor';
import { collectRollouts, connect, episodesToBatches, startServer, taskToWire, type RunningServer } from '@chameleon/transport';
import { environmentSimulatorService } from '@chameleon/app-environment-simulator';
import { runRollouts } from '@chameleon/app-environment-simulator/src/rollouts';
import { median } from './setup';

const root = resolve(__dirname, '../..');
const CLI = join(root, 'apps/cli/bin/chameleon.js');
const HIDDEN = [100, 100];
const TASKS = 20;
const HORIZON = 200;
const WORLDS = 64;
const CHUNK = 128;

interface Options {
  repeats: number;
  episodes: number;
  only: string[];
  steps: boolean;
  phases: boolean;
  phaseIterations: number;
  learner: boolean;
  quick: boolean;
}

function parse(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    repeats: Number(flag('--repeats') ?? (quick ? 1 : 5)),
    episodes: Number(flag('--episodes') ?? (quick ? 60 : 200)),
    only: (flag('--only') ?? 'a,b,c,d,e').split(','),
    steps: !argv.includes('--no-steps'),
    phases: !argv.includes('--no-phases'),
    phaseIterations: Number(flag('--phase-iterations') ?? (quick ? 2 : 4)),
    learner: !argv.includes('--no-learner') && !quick,
    quick,
  };
}

const load1 = () => loadavg()[0];
const loadText = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** `chameleon serve environment-simulator` as its own process, once it listens. */
function spawnSimulator(): Promise<{ address: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [CLI, 'serve', 'environment-simulator', '--port', '0', '--max-message-bytes', String(1 << 28)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.on('exit', (code) => reject(new Error(`environment-simulator exited with ${code} before listening`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const e = JSON.parse(line) as { event?: string; address?: string };
        if (e.event === 'listening' && e.address) resolve({ address: e.address, proc });
      } catch {
        // not an event line
      }
    });
  });
}

interface Cell {
  id: string;
  label: string;
  /** Runs one rollout phase; resolves with the env steps taken. */
  run(): Promise<number>;
  rates: number[];
  /** Env steps per CPU-second of this process and the simulator processes together. */
  cpuRates: number[];
  load: number[];
}

/** User + system CPU seconds of another process (Linux /proc; clock ticks of 10 ms). */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function envSteps(o: Options): Promise<{ cells: Cell[]; cpuSeconds: () => number; cleanup: () => Promise<void> }> {
  await ensureMujoco();
  const env = halfCheetahVelEnv();
  const obsSize = env.spec.observationShape.reduce((a, b) => a * b, 1);
  const actSize = env.spec.actionShape.reduce((a, b) => a * b, 1);
  const policyConfig = gaussianMlpPolicyConfig.parse({ observationSize: obsSize, actionSize: actSize, hidden: HIDDEN, activation: 'tanh' });
  const policy = new GaussianMlpPolicy(policyConfig);
  const theta = policy.init(1);
  const tasks = sampleTasks(new HalfCheetahVelFamily(), { split: 'train', seed: 1, start: 0, count: TASKS });
  const episodes = Array.from({ length: o.episodes }, (_, e) => ({ task: e % TASKS, episode: Math.floor(e / TASKS) }));
  const steps = o.episodes * HORIZON;

  const raw = async () => {
    const v = new VectorEnv(env, WORLDS, Array.from({ length: WORLDS }, (_, w) => tasks[w % TASKS]), 1, HORIZON);
    const rng = Rng.fromKeys('bench-rl-raw');
    const pool = Array.from({ length: 64 }, () => Float32Array.from({ length: WORLDS * actSize }, () => rng.uniform(-1, 1)));
    v.reset();
    const calls = Math.ceil(steps / WORLDS);
    for (let k = 0; k < calls; k++) v.step(pool[k % pool.length]);
    v.close();
    return calls * WORLDS;
  };
  const plan = { env, tasks, episodes, params: [theta], horizon: HORIZON, seed: 5, chunkSteps: CHUNK, parallelWorlds: WORLDS, deterministic: false };
  const inProcess = async () => {
    let rows = 0;
    await runRollouts(plan, policy, async (c) => void (rows += c.rows), () => undefined);
    return rows;
  };

  const request: StreamRolloutsRequest = {
    environment: 'halfcheetah-vel',
    environmentConfig: {},
    policy: { architecture: 'gaussian-mlp', config: { ...policyConfig } },
    policyParams: [paramsToWire(policy.spec.map((p) => p.name), policy.spec.map((p) => [...p.shape]), theta)],
    tasks: tasks.map(taskToWire),
    episodes,
    horizon: HORIZON,
    seed: 5,
    chunkSteps: CHUNK,
    deterministic: false,
    parallelWorlds: WORLDS,
    observeTask: false,
  };
  const streamed = (clients: EnvironmentSimulatorServiceClient[]) => async () => {
    const { episodes: got } = await collectRollouts(clients, request, { deadlineMs: 600_000 });
    const batches = episodesToBatches(got, TASKS, Math.ceil(o.episodes / TASKS), HORIZON, obsSize, actSize);
    if (got.size !== o.episodes || batches.length !== TASKS) throw new Error(`expected ${o.episodes} episodes, got ${got.size}`);
    let n = 0;
    for (const e of got.values()) n += e.length;
    return n;
  };

  const procs: ChildProcess[] = [];
  const clients: EnvironmentSimulatorServiceClient[] = [];
  let embedded: RunningServer | undefined;
  const wants = (id: string) => o.only.includes(id);
  if (wants('c') || wants('d')) {
    for (let k = 0; k < (wants('d') ? 2 : 1); k++) {
      const s = await spawnSimulator();
      procs.push(s.proc);
      clients.push(connect(EnvironmentSimulatorServiceClient, s.address, undefined, 1 << 28));
    }
  }
  let embeddedClient: EnvironmentSimulatorServiceClient | undefined;
  if (wants('e')) {
    embedded = await startServer({ label: 'environment-simulator', services: [environmentSimulatorService(createRegistry())], port: 0, maxMessageBytes: 1 << 28 } as Parameters<typeof startServer>[0]);
    embeddedClient = connect(EnvironmentSimulatorServiceClient, embedded.address, undefined, 1 << 28);
  }
  const all: Array<Omit<Cell, 'rates' | 'cpuRates' | 'load'>> = [
    { id: 'a', label: '(a) raw stepping, in-process (VectorEnv, random actions)', run: raw },
    { id: 'b', label: '(b) rollouts with actor-side inference, in-process (runRollouts)', run: inProcess },
    { id: 'c', label: '(c) streamed from 1 simulator process into the meta-optimiser side', run: streamed(clients.slice(0, 1)) },
    { id: 'd', label: '(d) streamed from 2 simulator processes', run: streamed(clients.slice(0, 2)) },
    { id: 'e', label: '(e) streamed from a simulator embedded in the same process', run: streamed(embeddedClient ? [embeddedClient] : []) },
  ];
  const cells = all.filter((c) => wants(c.id)).map((c) => ({ ...c, rates: [] as number[], cpuRates: [] as number[], load: [] as number[] }));
  // CPU of this process and of every simulator process: idle processes add nothing.
  const cpuSeconds = () => {
    const self = process.cpuUsage();
    return (self.user + self.system) / 1e6 + procs.reduce((a, p) => a + (p.pid ? cpuSecondsOf(p.pid) : 0), 0);
  };
  const cleanup = async () => {
    for (const c of [...clients, ...(embeddedClient ? [embeddedClient] : [])]) c.close();
    for (const p of procs) p.kill('SIGTERM');
    await embedded?.shutdown(500);
  };
  return { cells, cpuSeconds, cleanup };
}

async function measureSteps(o: Options) {
  const { cells, cpuSeconds, cleanup } = await envSteps(o);
  try {
    for (const c of cells) {
      process.stderr.write(`  warm-up ${c.id}\n`);
      await c.run();
    }
    for (let r = 0; r < o.repeats; r++) {
      for (const c of cells) {
        c.load.push(load1());
        const cpu0 = cpuSeconds();
        const t0 = performance.now();
        const n = await c.run();
        const rate = n / ((performance.now() - t0) / 1000);
        c.rates.push(rate);
        c.cpuRates.push(n / Math.max(1e-3, cpuSeconds() - cpu0));
        process.stderr.write(`  repeat ${r + 1} ${c.id}: ${rate.toFixed(0)} env steps/s, ${c.cpuRates[c.cpuRates.length - 1].toFixed(0)} per CPU-s, load ${load1().toFixed(2)}\n`);
      }
    }
  } finally {
    await cleanup();
  }
  const b = cells.find((c) => c.id === 'b');
  const cc = cells.find((c) => c.id === 'c');
  const k = (x: number) => `${(x / 1000).toFixed(1)}K`;
  console.log(`\n| path | env steps/s, median (min-max) | vs (b) | vs (c) | env steps per CPU-s (all processes) | load1 |\n| --- | ---: | ---: | ---: | ---: | --- |`);
  for (const c of cells) {
    const s = [...c.rates].sort((x, y) => x - y);
    const rel = (ref?: Cell) => (ref ? `${((100 * median(c.rates)) / median(ref.rates)).toFixed(0)}%` : '');
    console.log(`| ${c.label} | ${k(median(c.rates))} (${k(s[0])}-${k(s[s.length - 1])}) | ${rel(b)} | ${rel(cc)} | ${k(median(c.cpuRates))} | ${Math.min(...c.load).toFixed(1)}-${Math.max(...c.load).toFixed(1)} |`);
  }
  return cells.map(({ id, label, rates, cpuRates, load }) => ({ id, label, rates, cpuRates, load1: load }));
}

interface Span {
  traceId: string;
  name: string;
  kind: string;
  durationMs: number;
  attributes: Record<string, unknown>;
}

/** Per-phase wall time of meta-iterations 2..N of the small HalfCheetahVel config, from its traces. */
function measurePhases(o: Options) {
  const dir = mkdtempSync(join(tmpdir(), 'chameleon-bench-rl-phases-'));
  const config = readFileSync(join(root, 'configs/halfcheetah-vel-maml.yaml'), 'utf8')
    .replace(/^baseline:.*$/m, 'baseline: { iterations: 0, oracleIterations: 0 }')
    .replace(/^evaluation:.*$/m, 'evaluation: { enabled: false }');
  writeFileSync(join(dir, 'config.yaml'), config);
  const r = spawnSync(process.execPath, [CLI, 'train', '--config', join(dir, 'config.yaml'), '--iterations', String(o.phaseIterations), '--out', join(dir, 'run'), '--no-report'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`chameleon train failed (exit ${r.status})`);
  const spans = readFileSync(join(dir, 'run/traces.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Span);
  rmSync(dir, { recursive: true, force: true });
  const iterations = spans.filter((s) => s.name === 'meta_iteration').map((s) => s.traceId);
  const timed = iterations.slice(1); // the first iteration warms up (wasm tier-up, caches)
  const PHASES = ['sample_tasks', 'rollouts_pre', 'adapt', 'rollouts_post', 'meta_gradient', 'meta_update', 'meta_iteration'];
  // The server's side of the RPC behind each phase.
  const SERVER: Record<string, string> = { rollouts_pre: 'StreamRollouts', adapt: 'AdaptPolicy', rollouts_post: 'StreamRollouts', meta_gradient: 'PolicyMetaStep', sample_tasks: 'SampleTasks' };
  const rows = PHASES.map((phase) => {
    const wall = timed.map((t) => spans.filter((s) => s.traceId === t && s.name === phase).reduce((a, s) => a + s.durationMs, 0));
    const server = SERVER[phase]
      ? timed.map((t) => {
          const rpcs = spans.filter((s) => s.traceId === t && s.kind === 'SERVER' && s.name.endsWith(`/${SERVER[phase]}`));
          // rollouts_pre and rollouts_post both call StreamRollouts: in order of the trace.
          const k = phase === 'rollouts_post' ? 1 : 0;
          return rpcs.length > k ? rpcs[phase.startsWith('rollouts') ? k : 0].durationMs : NaN;
        })
      : [];
    return { phase, wallMs: median(wall), serverMs: server.length ? median(server) : undefined };
  });
  const total = rows.find((x) => x.phase === 'meta_iteration')!.wallMs;
  console.log(`\nOne meta-iteration of configs/halfcheetah-vel-maml.yaml (5 tasks x 5 episodes x 200 steps, 64-64 tanh), median of iterations 2-${o.phaseIterations}:`);
  console.log(`| phase | wall ms (meta-optimiser's span) | server ms (the RPC's server span) | share |\n| --- | ---: | ---: | ---: |`);
  for (const x of rows) console.log(`| ${x.phase} | ${x.wallMs.toFixed(1)} | ${x.serverMs === undefined ? '' : x.serverMs.toFixed(1)} | ${x.phase === 'meta_iteration' ? '100%' : `${((100 * x.wallMs) / total).toFixed(1)}%`} |`);
  return { iterations: timed.length, rows };
}

/** tools/bench/rl.ts --reference: the learner's steps on the fused and the generic path. */
function measureLearner(o: Options): string {
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'rl.ts'), '--reference', '--repeats', String(Math.min(o.repeats, 3))], {
    cwd: root,
    env: { ...process.env, SWC_NODE_PROJECT: join(root, 'tsconfig.json') },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`tools/bench/rl.ts failed (exit ${r.status})`);
  process.stdout.write(r.stdout);
  return r.stdout;
}

/** Entry point of `npm run bench -- rl`. */
export async function runRl(argv: string[]): Promise<number> {
  const o = parse(argv);
  if (!Number.isInteger(o.episodes / TASKS) || o.episodes <= 0) throw new Error(`--episodes must be a positive multiple of ${TASKS} (episodes per task are equal)`);
  const backend = await initBackend('wasm');
  const started = new Date().toISOString();
  const loadBefore = loadText();
  console.log(`meta-RL pipeline benchmark: HalfCheetahVel, ${o.episodes} episodes x ${HORIZON} steps per rollout phase, policy ${HIDDEN.join('-')} tanh, ${WORLDS} worlds per wave; ${o.repeats} repeats; ${cpus().length} cores; backend ${backend.name}; load average ${loadBefore}`);
  const steps = o.steps ? await measureSteps(o) : undefined;
  const phases = o.phases ? measurePhases(o) : undefined;
  const learner = o.learner ? measureLearner(o) : undefined;
  const loadAfter = loadText();
  console.log(`\nload average after: ${loadAfter}`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `rl-pipeline-${started.replace(/[:.]/g, '-')}.json`);
  const machine = { cpu: cpus()[0]?.model, cpus: cpus().length, node: process.version, backend };
  const protocol = { environment: 'halfcheetah-vel', episodes: o.episodes, horizon: HORIZON, tasks: TASKS, hidden: HIDDEN, parallelWorlds: WORLDS, chunkSteps: CHUNK, repeats: o.repeats, phaseIterations: o.phaseIterations };
  writeFileSync(file, `${JSON.stringify({ date: started, loadBefore, loadAfter, machine, protocol, steps, phases, learner }, null, 1)}\n`);
  console.log(`wrote ${file}`);
  return 0;
}
