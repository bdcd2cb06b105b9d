/**
 * Few-shot benchmark (BENCHMARKS.md, "Few-shot (conv-4, 5-way 1-shot)"): meta-iterations per
 * second of every few-shot learner on conv-4, in process, exactly the meta-optimiser's loop
 * minus gRPC (sample tasks, render their images, meta-gradient through the learner's host
 * entry point, Adam step).
 *
 *   npm run bench -- few-shot [--filters 64] [--batch 2] [--iterations 10] [--repeats 2] [--warmup 2]
 *                            [--only maml,protonets] [--tasks-per-pass N] [--pass-memory-mb MiB] [--quick] [--write]
 *
 * Protocol: procedural Omniglot-like tasks (28x28x1), 5-way 1-shot, 5 x 1 support and 5 x 15
 * query images per task, meta-batch 2 tasks (Finn et al. used 32 for 5-way Omniglot; at 4,
 * MAML++'s second-order tape through 2 inner steps outgrows the wasm backend's 4 GB heap at 64
 * filters in one pass, which aborted the process inside XNNPACK before the meta-gradient chose
 * its pass size automatically, as the learner does: see --tasks-per-pass), conv-4
 * with 64 filters and batch norm; inner loop 1 step (lr 0.4) for the gradient-based learners,
 * 3 for Reptile, 2 for MAML++ (its paper: 5; second order, as its config defaults to no
 * first-order phase). Each algorithm warms up
 * for 2 iterations, then runs `repeats` timed blocks of `iterations`, algorithms interleaved so
 * load changes hit all alike; the table gives the median of wall-clock it/s and of it per CPU
 * second of this process, with the 1-minute load average.
 */
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileSync, mkdirSync } from 'node:fs';
import { Rng } from '@chameleon/core';
import type { SupervisedSource } from '@chameleon/envs';
import { initialState, metaGradientHost, MIB, optimiserConfig, optimiserStep, PassPlanner, type MetaAlgorithm } from '@chameleon/meta';
import { initBackend, tf, type FunctionalModel } from '@chameleon/nn';
import { sampleTasks, type TaskFamily } from '@chameleon/tasks';
import { createRegistry } from '@chameleon/builtins';
import { cpuSeconds } from './in-process';
import { median } from './setup';

interface Case {
  readonly id: string;
  readonly label: string;
  readonly name: string;
  readonly config?: Record<string, unknown>;
  readonly inner: { steps: number; learningRate: number };
}

const MAML_INNER = { steps: 1, learningRate: 0.4 };
const NONE = { steps: 0, learningRate: 0 };
export const FEW_SHOT_CASES: Case[] = [
  { id: 'maml', label: 'MAML (second order)', name: 'maml', inner: MAML_INNER },
  { id: 'fomaml', label: 'FOMAML', name: 'fomaml', inner: MAML_INNER },
  { id: 'reptile', label: 'Reptile (3 inner steps)', name: 'reptile', inner: { steps: 3, learningRate: 0.2 } },
  { id: 'protonets', label: 'ProtoNets', name: 'protonets', inner: NONE },
  { id: 'matching', label: 'Matching networks', name: 'matching', inner: NONE },
  { id: 'snail', label: 'SNAIL-style (black box)', name: 'snail', inner: NONE },
  { id: 'meta-sgd', label: 'Meta-SGD', name: 'meta-sgd', inner: MAML_INNER },
  { id: 'anil', label: 'ANIL', name: 'anil', inner: MAML_INNER },
  { id: 'maml-plus-plus', label: 'MAML++ (2 inner steps, MSL)', name: 'maml-plus-plus', config: { lslrInit: 0.4, msl: { enabled: true, iterations: 150 } }, inner: { steps: 2, learningRate: 0.4 } },
  { id: 'mr-maml', label: 'MR-MAML (weights)', name: 'mr-maml', config: { beta: 1e-4 }, inner: MAML_INNER },
];

export interface FewShotOptions {
  filters: number;
  batch: number;
  ways: number;
  shots: number;
  query: number;
  iterations: number;
  repeats: number;
  only?: string[];
  /** Tasks per autodiff pass of the meta-gradient (0: automatic), as the learner's --tasks-per-pass. */
  tasksPerPass?: number;
  /** Automatic mode's budget of one pass, MiB, as the learner's --pass-memory-mb (default 2048). */
  passMemoryMb?: number;
}

/** One algorithm's meta-training loop on conv-4, as the meta-optimiser runs it. */
export function fewShotLoop(c: Case, o: FewShotOptions) {
  const registry = createRegistry();
  const model = registry.create<FunctionalModel>('model', 'conv4', { filters: o.filters, ways: o.ways });
  const algorithm = registry.create<MetaAlgorithm>('algorithm', c.name, c.config ?? {});
  const family = registry.create<TaskFamily>('task-family', 'omniglot-like', { ways: o.ways });
  const source = registry.create<SupervisedSource>('environment', 'omniglot-like', {});
  const opt = optimiserConfig.parse({ name: 'adam', learningRate: 0.001 });
  const spec = algorithm.paramSpec(model);
  const names = spec.map((s) => s.name);
  let params = algorithm.init(model, 1);
  let state = initialState(opt, names, params.map((v) => v.length));
  const planner = new PassPlanner({ budgetBytes: o.passMemoryMb === undefined ? undefined : o.passMemoryMb * MIB });
  let i = 0;
  return (): number => {
    const tasks = sampleTasks(family, { split: 'train', seed: 1, start: i * o.batch, count: o.batch });
    const batch = source.sample(tasks, { supportSize: o.ways * o.shots, querySize: o.ways * o.query, seed: Rng.fromKeys('data', 1, i).seed() });
    const r = metaGradientHost(algorithm, model, params, batch, c.inner, undefined, { tasksPerPass: o.tasksPerPass ?? 0, planner });
    ({ params, state } = optimiserStep(opt, names, params, r.grads, state));
    i++;
    return r.metaLoss;
  };
}

interface Sample {
  itPerSec: number;
  itPerCpuSec: number;
  load1: number;
}

export async function runFewShot(argv: string[]): Promise<number> {
  const num = (flag: string, dflt: number) => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer`);
    return v;
  };
  const quick = argv.includes('--quick');
  const onlyAt = argv.indexOf('--only');
  const o: FewShotOptions = {
    filters: num('--filters', 64),
    batch: num('--batch', 2),
    ways: 5,
    shots: 1,
    query: 15,
    iterations: num('--iterations', quick ? 3 : 10),
    repeats: num('--repeats', quick ? 1 : 2),
    only: onlyAt >= 0 ? argv[onlyAt + 1].split(',') : undefined,
    tasksPerPass: argv.includes('--tasks-per-pass') ? num('--tasks-per-pass', 1) : 0,
    passMemoryMb: argv.includes('--pass-memory-mb') ? num('--pass-memory-mb', 2048) : undefined,
  };
  const backend = (await initBackend('wasm')).name;
  const cases = FEW_SHOT_CASES.filter((c) => !o.only || o.only.includes(c.id));
  const loops = cases.map((c) => ({ c, step: fewShotLoop(c, o), samples: [] as Sample[], loss: NaN }));
  const warmup = num('--warmup', quick ? 1 : 2);
  for (const l of loops) for (let k = 0; k < warmup; k++) l.loss = l.step();
  for (let r = 0; r < o.repeats; r++) {
    for (const l of loops) {
      const load1 = loadavg()[0];
      const [t0, c0] = [performance.now(), cpuSeconds()];
      for (let k = 0; k < o.iterations; k++) l.loss = l.step();
      l.samples.push({ itPerSec: (o.iterations * 1000) / (performance.now() - t0), itPerCpuSec: o.iterations / (cpuSeconds() - c0), load1 });
      console.error(`${l.c.id}: ${l.samples.at(-1)!.itPerSec.toPrecision(3)} it/s (load ${load1.toFixed(1)})`);
    }
  }
  const rows = loops.map((l) => ({
    id: l.c.id,
    label: l.c.label,
    itPerSec: median(l.samples.map((s) => s.itPerSec)),
    itPerCpuSec: median(l.samples.map((s) => s.itPerCpuSec)),
    load1: median(l.samples.map((s) => s.load1)),
    lastLoss: l.loss,
  }));
  const table = [
    '| algorithm | meta-it/s (wall) | meta-it per CPU-s | load1 | last meta-loss |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.label} | ${r.itPerSec.toPrecision(3)} | ${r.itPerCpuSec.toPrecision(3)} | ${r.load1.toFixed(1)} | ${r.lastLoss.toFixed(3)} |`),
  ].join('\n');
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${backend}`;
  console.log(`conv-4 (${o.filters} filters), ${o.ways}-way ${o.shots}-shot, ${o.query} queries per class, meta-batch ${o.batch}; ${o.repeats} x ${o.iterations} timed iterations after ${warmup} warm-up; ${machine}; tensors alive at the end: ${tf.memory().numTensors}\n`);
  console.log(table);
  if (argv.includes('--write')) {
    const dir = resolve(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `few-shot-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify({ options: o, machine, rows }, null, 1)}\n`);
    console.log(`\nwritten: ${file}`);
  }
  return 0;
}

if (require.main === module) {
  runFewShot(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
