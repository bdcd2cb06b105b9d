import { cpus, loadavg } from 'node:os';
import { relative } from 'node:path';
import { initBackend, tf } from '@chameleon/nn';
import { inProcessLoop, timeLoop, type Phases, type Variant } from './in-process';
import { profileKernels, type KernelProfile } from './profile';
import { load1, row, table, writeResult, type Row, type Sample } from './report';
import { startServices, stopServices, timeRun } from './services';
import { PROTOCOL } from './setup';

interface Options {
  repeats: number;
  iterations: number;
  genericIterations: number;
  warmup: number;
  servicesIterations: number;
  servicesWarmup: number;
  services: boolean;
  inProcess: boolean;
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const num = (flag: string, dflt: number) => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer`);
    return v;
  };
  return {
    repeats: num('--repeats', quick ? 1 : 5),
    iterations: num('--iterations', quick ? 200 : 1000),
    genericIterations: num('--generic-iterations', quick ? 50 : 200),
    warmup: num('--warmup', quick ? 20 : 100),
    servicesIterations: num('--services-iterations', quick ? 300 : 1500),
    servicesWarmup: num('--services-warmup', quick ? 50 : 200),
    services: !argv.includes('--no-services'),
    inProcess: !argv.includes('--no-in-process'),
  };
}

type PhaseTable = Record<string, Phases | Record<string, number>>;

/**
 * The four in-process variants, repeats interleaved (fused, generic, fused, ...) so that a
 * change in machine load hits every variant alike.
 */
async function inProcess(o: Options, rows: Row[], phases: PhaseTable, profiles: Record<string, KernelProfile>): Promise<void> {
  const variants: Variant[] = ['maml-fused', 'maml-generic', 'fomaml-fused', 'fomaml-generic'];
  const loops = variants.map((v) => ({ v, loop: inProcessLoop(v), n: v.endsWith('-generic') ? o.genericIterations : o.iterations, samples: [] as Sample[], lastLoss: NaN }));
  for (const l of loops) {
    for (let k = 0; k < o.warmup; k++) l.loop.step();
    Object.keys(l.loop.phases).forEach((k) => (l.loop.phases[k as keyof Phases] = 0));
  }
  const before = tf.memory().numTensors;
  for (let r = 0; r < o.repeats; r++) {
    for (const l of loops) {
      const load = load1();
      const t = timeLoop(l.loop.step, l.n);
      l.samples.push({ itPerSec: t.itPerSec, itPerCpuSec: t.itPerCpuSec, load1: load });
      l.lastLoss = t.lastLoss;
    }
    console.log(`repeat ${r + 1}: ${loops.map((l) => `${l.v} ${l.samples[r].itPerSec.toFixed(1)}`).join(', ')} it/s`);
  }
  if (tf.memory().numTensors !== before) throw new Error(`tensors leaked: ${tf.memory().numTensors - before}`);
  for (const l of loops) {
    rows.push(row(l.v, 'in-process', l.n, l.samples, l.lastLoss));
    const per = l.n * o.repeats;
    phases[l.v] = Object.fromEntries(Object.entries(l.loop.phases).map(([k, v]) => [k, +(v / per).toFixed(3)])) as unknown as Phases;
    profiles[l.v] = await profileKernels(() => void l.loop.step());
  }
}

/** Real meta-optimiser runs through the embedded services: fused MAML and FOMAML (interleaved), then generic MAML. */
async function services(o: Options, rows: Row[], phases: PhaseTable): Promise<void> {
  const genericWarmup = Math.min(o.servicesWarmup, o.genericIterations);
  const groups = [
    { fused: true, plans: [{ algorithm: 'maml', n: o.servicesIterations, warmup: o.servicesWarmup }, { algorithm: 'fomaml', n: o.servicesIterations, warmup: o.servicesWarmup }] },
    { fused: false, plans: [{ algorithm: 'maml', n: o.genericIterations, warmup: genericWarmup }] },
  ] as const;
  for (const group of groups) {
    const { embedded, dir } = await startServices(group.fused);
    try {
      const samples = group.plans.map(() => [] as Sample[]);
      const last = group.plans.map(() => NaN);
      for (let r = 0; r < o.repeats; r++) {
        for (const [i, plan] of group.plans.entries()) {
          const load = load1();
          const res = await timeRun(embedded, dir, plan.algorithm, plan.warmup, plan.n, String(r));
          if (res.state !== 'RUN_STATE_COMPLETED') throw new Error(`services run ${plan.algorithm} ended ${res.state}`);
          samples[i].push({ itPerSec: res.itPerSec, itPerCpuSec: res.itPerCpuSec, load1: load });
          last[i] = res.lastLoss;
          phases[`${plan.algorithm}-${group.fused ? 'fused' : 'generic'} (services)`] = res.phasesMs;
        }
      }
      group.plans.forEach((plan, i) => {
        const name = `${plan.algorithm}-${group.fused ? 'fused' : 'generic'}`;
        rows.push(row(name, 'services', plan.n, samples[i], last[i]));
        console.log(`${name} (services): ${samples[i].map((s) => s.itPerSec.toFixed(1)).join(', ')} it/s`);
      });
    } finally {
      await stopServices(embedded, dir);
    }
  }
}

/** Runs every measurement, prints the table and writes the JSON result; returns the exit code. */
export async function run(argv: string[], traced: boolean): Promise<number> {
  const o = parseArgs(argv);
  const backend = await initBackend('auto', (l) => console.log(l));
  const loadBefore = loadavg();
  console.log(`load average before: ${loadBefore.map((v) => v.toFixed(2)).join(' ')} (${cpus().length} cores)`);
  const rows: Row[] = [];
  const phases: PhaseTable = {};
  const profiles: Record<string, KernelProfile> = {};
  if (o.inProcess) await inProcess(o, rows, phases, profiles);
  if (o.services) await services(o, rows, phases);
  console.log(`\n${table(rows)}\n`);
  for (const [v, p] of Object.entries(profiles)) {
    console.log(`${v}: ${p.kernels} kernels, ${p.kernelMs} ms in kernels per iteration; phases ms/it ${JSON.stringify(phases[v])}`);
    console.log(`  top: ${p.top.map((k) => `${k.name} x${k.count} ${k.ms}ms`).join(', ')}`);
  }
  for (const [v, p] of Object.entries(phases)) if (v.endsWith('(services)')) console.log(`${v}: phases ms/it ${JSON.stringify(p)}`);
  const file = writeResult({
    benchmark: 'maml-sinusoid',
    date: new Date().toISOString(),
    protocol: PROTOCOL,
    machine: { cpuModel: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: process.platform },
    backend,
    tfjs: tf.version.tfjs,
    options: { ...o, traced },
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
    results: rows,
    phasesMsPerIteration: phases,
    profiles,
  });
  console.log(`result: ${relative(process.cwd(), file)}`);
  return 0;
}
