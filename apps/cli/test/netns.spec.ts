import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadCheckpoint } from '@chameleon/transport';
import { paramsFromWire } from '@chameleon/tensor';
import { NetnsLab, type LabProcess } from './netns';
import { tmp } from './helpers';

/**
 * Chameleon across hosts: every service in its own network namespace (its own address,
 * reached over veth links and a bridge), the client in another. A run completes across
 * them; a simulator is killed mid-run and the run still finishes, bit-identical to the
 * uninterrupted one; the meta-optimiser is killed (SIGKILL) mid-run, restarted on the same
 * address and the run resumed from its last checkpoint, again bit-identical. Needs root and
 * `ip netns`: skipped with a message otherwise. CHAMELEON_NETNS_SUMMARY names a file for the
 * JSON summary (faults injected, runs completed, work lost) that docs/operations.md quotes.
 */

const unavailable = NetnsLab.unavailable();
if (unavailable) console.warn(`skipped: multi-host tests need network namespaces: ${unavailable}`);
const describeNetns = unavailable ? describe.skip : describe;

const ITERATIONS = 150;
const EVERY = 10;
const PORTS = { taskSampler: 50051, simulator: 50052, learner: 50053, evaluator: 50054, metaOptimiser: 50055 };

const config = {
  name: 'netns',
  seed: 11,
  task: { family: 'sinusoid' },
  model: { architecture: 'mlp', config: { hidden: [16, 16] } },
  meta: { iterations: ITERATIONS, batchSize: 5 },
  data: { supportSize: 5, querySize: 5 },
  checkpoint: { every: EVERY },
  baseline: { iterations: 0 },
  evaluation: { enabled: false, tasks: 10, querySize: 10, steps: 2, examples: 1 },
};

describeNetns('across network namespaces', () => {
  const lab = new NetnsLab();
  const dir = tmp('netns');
  const runsDir = join(dir, 'mo-runs');
  const configFile = join(dir, 'run.yaml');
  const servicesFile = join(dir, 'services.yaml');
  const procs: Record<string, LabProcess> = {};
  const summary = { hosts: 0, faultsInjected: [] as string[], runsCompleted: 0, iterationsLost: 0, iterationsPerRun: ITERATIONS, checkpointEvery: EVERY, bitIdentical: [] as string[] };
  let reference: number[][] = [];

  const moArgs = () => [
    '--task-sampler', lab.address('sampler', PORTS.taskSampler),
    '--simulators', `${lab.address('sim1', PORTS.simulator)},${lab.address('sim2', PORTS.simulator)}`,
    '--learner', lab.address('learner', PORTS.learner),
    '--evaluator', lab.address('learner', PORTS.evaluator),
    '--runs-dir', runsDir,
  ];
  const startMetaOptimiser = async () => (procs.mo = await lab.serve('mo', 'meta-optimiser', PORTS.metaOptimiser, moArgs()));
  const startSimulator = async (host: 'sim1' | 'sim2') => (procs[host] = await lab.serve(host, 'environment-simulator', PORTS.simulator));

  beforeAll(async () => {
    lab.create(['sampler', 'sim1', 'sim2', 'learner', 'mo', 'client']);
    summary.hosts = 6;
    writeFileSync(configFile, JSON.stringify(config));
    writeFileSync(
      servicesFile,
      JSON.stringify({
        taskSampler: lab.address('sampler', PORTS.taskSampler),
        simulators: [lab.address('sim1', PORTS.simulator), lab.address('sim2', PORTS.simulator)],
        learner: lab.address('learner', PORTS.learner),
        evaluator: lab.address('learner', PORTS.evaluator),
        metaOptimiser: lab.address('mo', PORTS.metaOptimiser),
      }),
    );
    const learner = lab.address('learner', PORTS.learner);
    const sims = `${lab.address('sim1', PORTS.simulator)},${lab.address('sim2', PORTS.simulator)}`;
    [procs.sampler, procs.sim1, procs.sim2, procs.learner] = await Promise.all([
      lab.serve('sampler', 'task-sampler', PORTS.taskSampler),
      lab.serve('sim1', 'environment-simulator', PORTS.simulator),
      lab.serve('sim2', 'environment-simulator', PORTS.simulator),
      lab.serve('learner', 'learner', PORTS.learner, ['--backend', 'wasm']),
    ]);
    procs.evaluator = await lab.serve('learner', 'evaluator', PORTS.evaluator, ['--task-sampler', lab.address('sampler', PORTS.taskSampler), '--simulators', sims, '--learner', learner]);
    await startMetaOptimiser();
  }, 240_000);

  afterAll(() => {
    lab.destroy();
    if (process.env.CHAMELEON_NETNS_SUMMARY) {
      mkdirSync(dirname(process.env.CHAMELEON_NETNS_SUMMARY), { recursive: true });
      writeFileSync(process.env.CHAMELEON_NETNS_SUMMARY, `${JSON.stringify(summary, null, 2)}\n`);
    }
  });

  const train = (out: string, extra: string[] = []) => lab.run('client', ['train', '--config', configFile, '--services', servicesFile, '--out', join(dir, out), ...extra]);
  const runIdOf = (stderr: string) => /run (\S+): /.exec(stderr)?.[1];
  const params = (runId: string) => paramsFromWire(loadCheckpoint(join(runsDir, runId, 'checkpoint.ckpt')).params).map((p) => Array.from(p.tensor.data));
  /** Progress lines the meta-optimiser has written for the newest run. */
  const progressOf = (runId?: string): number => {
    const ids = runId ? [runId] : existsSync(runsDir) ? readdirSync(runsDir) : [];
    let best = 0;
    for (const id of ids) {
      const f = join(runsDir, id, 'metrics.jsonl');
      if (!existsSync(f)) continue;
      const n = readFileSync(f, 'utf8').split('\n').filter((l) => l.includes('"type":"progress"')).length;
      best = Math.max(best, n);
    }
    return best;
  };
  /** Resolves once a run other than `known` has reached `iterations`. */
  const whenProgress = async (known: Set<string>, iterations: number): Promise<string> => {
    for (;;) {
      const fresh = (existsSync(runsDir) ? readdirSync(runsDir) : []).filter((id) => !known.has(id));
      for (const id of fresh) if (progressOf(id) >= iterations) return id;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const known = () => new Set(existsSync(runsDir) ? readdirSync(runsDir) : []);

  it('completes a run with the client, meta-optimiser, learner, sampler and two simulators on separate hosts', async () => {
    const r = await train('reference');
    expect(r.stderr).toMatch(/RUN_STATE_COMPLETED/);
    expect(r.code).toBe(0);
    const id = runIdOf(r.stderr)!;
    expect(progressOf(id)).toBe(ITERATIONS);
    reference = params(id);
    expect(reference.length).toBeGreaterThan(0);
    summary.runsCompleted++;
  }, 300_000);

  it('finishes, bit-identical, when a simulator is killed mid-run', async () => {
    const before = known();
    const running = train('sim-killed');
    const id = await whenProgress(before, 30);
    await procs.sim1.kill('SIGKILL');
    summary.faultsInjected.push(`simulator sim1 SIGKILL at iteration ${progressOf(id)}`);
    const r = await running;
    expect(r.stderr).toMatch(/RUN_STATE_COMPLETED/);
    expect(progressOf(id)).toBe(ITERATIONS);
    expect(params(id)).toEqual(reference);
    summary.runsCompleted++;
    summary.bitIdentical.push('simulator killed');
    await startSimulator('sim1');
  }, 300_000);

  it('resumes after the meta-optimiser is killed, losing at most one checkpoint interval, bit-identical', async () => {
    const before = known();
    const running = train('mo-killed');
    const id = await whenProgress(before, 45);
    await procs.mo.kill('SIGKILL');
    const reached = progressOf(id);
    summary.faultsInjected.push(`meta-optimiser SIGKILL at iteration ${reached}`);
    const first = await running;
    expect(first.code).not.toBe(0);
    const checkpoint = Number(loadCheckpoint(join(runsDir, id, 'checkpoint.ckpt')).iteration);
    expect(checkpoint % EVERY).toBe(0);
    const lost = reached - checkpoint;
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThan(EVERY + 2); // iterations after the last checkpoint, plus one in flight
    summary.iterationsLost += lost;
    await startMetaOptimiser();
    const resumed = await train('mo-resumed', ['--resume', join(runsDir, id, 'checkpoint.ckpt')]);
    expect(resumed.stderr).toMatch(/RUN_STATE_COMPLETED/);
    expect(resumed.code).toBe(0);
    expect(runIdOf(resumed.stderr)).toBe(id);
    expect(Number(loadCheckpoint(join(runsDir, id, 'checkpoint.ckpt')).iteration)).toBe(ITERATIONS);
    expect(params(id)).toEqual(reference);
    summary.runsCompleted++;
    summary.bitIdentical.push('meta-optimiser killed and resumed');
  }, 400_000);
});
