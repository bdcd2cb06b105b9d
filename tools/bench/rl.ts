/**
 * Meta-RL benchmark (BENCHMARKS.md, "Meta-RL"): the learner's TRPO-family steps, adaptPolicy
 * and the simulator's rollouts on 2D navigation, before and after the fused path.
 *
 *   SWC_NODE_PROJECT=./tsconfig.json node -r @swc-node/register tools/bench/rl.ts \
 *     [--before COMMIT] [--reference] [--repeats 3] [--hidden 64,64] [--only trpo,...] [--quick]
 *
 * Protocol: 20 tasks x 10 episodes x horizon 100 (20,000 steps before and 20,000 after
 * adaptation), Gaussian MLP policy (tanh), default MAML-TRPO settings (innerLr 0.1, maxKl
 * 0.01, 10 CG iterations, exact HVP); rollouts: 2,000 episodes of 100 steps through the
 * simulator's runRollouts (64 worlds per wave, one parameter list per task). The data are
 * real 2D-navigation trajectories, sampled once here (D_i with theta, D'_i with the adapted
 * theta'_i) and loaded by every measuring process, so all variants see identical inputs.
 *
 * Variants: "after" is this working tree with its defaults. `--before COMMIT` unpacks that
 * commit (git archive, nothing in the repository changes) next to a temporary node_modules
 * and measures the same cases there with its defaults. `--reference` adds this tree's
 * generic path (fused: false; rollouts world by world). Each repeat runs every variant once,
 * in alternating fresh processes (each warms up first); the table gives medians of wall time
 * and of the process's CPU time, with the 1-minute load average.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serialize } from 'node:v8';
import { Rng } from '@chameleon/core';
import { NavigationEnvironment, NavigationFamily, VectorEnv, navigationEnvConfig } from '@chameleon/envs';
import { initBackend } from '@chameleon/nn';
import { GaussianMlpPolicy, adaptPolicy, advantageConfig, collectEpisodes, gaussianMlpPolicyConfig, splitByTask } from '@chameleon/rl';
import { sampleTasks } from '@chameleon/tasks';
import type { BenchData, CaseResult } from './rl-cases';
import { median } from './setup';

const root = resolve(__dirname, '../..');
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const repeats = Number(flag('--repeats') ?? (quick ? 1 : 3));
const hidden = (flag('--hidden') ?? '64,64').split(',').map(Number);
const before = flag('--before');
const [T, K, H] = [20, 10, 100];

/** D_i with theta and D'_i with theta'_i = adaptPolicy(theta), as one MAML iteration samples them. */
function sampleData(): BenchData {
  const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 2, actionSize: 2, hidden, activation: 'tanh' }));
  const theta = policy.init(1);
  const env = new NavigationEnvironment(navigationEnvConfig.parse({ horizon: H }));
  const tasks = sampleTasks(new NavigationFamily(), { split: 'train', seed: 1, start: 0, count: T });
  const worldTask = Array.from({ length: T * K }, (_, w) => Math.floor(w / K));
  const collect = (sets: readonly Float32Array[][], seed: number) => {
    const venv = new VectorEnv(env, T * K, worldTask.map((i) => tasks[i]), seed);
    return splitByTask(collectEpisodes(venv, (o, n, r) => policy.actRows(sets, worldTask, o, n, r), T * K, H, Rng.fromKeys('bench-rl', seed), { taskOfWorld: worldTask }), T);
  };
  const pre = collect(tasks.map(() => theta), 1);
  const adapted = adaptPolicy(policy, theta, pre, 0.1, 1, advantageConfig.parse({}));
  return { hidden, tasks: T, horizon: H, theta, pre, post: collect(adapted, 2), adapted, rolloutEpisodes: quick ? 200 : 2000 };
}

/** `commit` unpacked into a temporary directory, with a node_modules whose workspace links point into it. */
function checkout(commit: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'chameleon-bench-before-'));
  execFileSync('sh', ['-c', `git -C "${root}" archive "${commit}" | tar -x -C "${dir}"`]);
  const nm = join(dir, 'node_modules');
  mkdirSync(join(nm, '@chameleon'), { recursive: true });
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name !== '@chameleon') symlinkSync(join(root, 'node_modules', name), join(nm, name));
  }
  for (const name of readdirSync(join(root, 'node_modules/@chameleon'))) {
    const link = join(root, 'node_modules/@chameleon', name);
    if (lstatSync(link).isSymbolicLink()) symlinkSync(readlinkSync(link), join(nm, '@chameleon', name)); // relative: resolves inside `dir`
  }
  cpSync(join(__dirname, 'rl-cases.ts'), join(dir, 'tools/bench/rl-cases.ts'));
  return dir;
}

/** One repeat of every case in a fresh process on the tree at `dir`. */
function measure(dir: string, dataFile: string, extra: string[]): CaseResult[] {
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', join(dir, 'tools/bench/rl-cases.ts'), '--data', dataFile, '--repeats', '1', ...extra], {
    cwd: dir,
    env: { ...process.env, SWC_NODE_PROJECT: join(dir, 'tsconfig.json') },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`measurement in ${dir} failed (exit ${r.status})`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { results: CaseResult[] }).results;
}

async function main(): Promise<void> {
  const backend = await initBackend('wasm');
  const work = mkdtempSync(join(tmpdir(), 'chameleon-bench-rl-'));
  const dataFile = join(work, 'data.bin');
  writeFileSync(dataFile, serialize(sampleData()));
  const beforeDir = before ? checkout(before) : undefined;
  const only = flag('--only') ? ['--only', flag('--only')!] : [];
  const all = new Map<string, CaseResult>();
  const add = (label: 'before' | 'after', rs: CaseResult[]) =>
    rs.forEach((r) => {
      const variant = label === 'before' ? 'before' : r.variant === 'reference' ? 'reference' : 'after';
      const acc = all.get(`${r.case}/${variant}`) ?? { case: r.case, variant, wallMs: [], cpuMs: [], load1: [] };
      acc.wallMs.push(...r.wallMs);
      acc.cpuMs.push(...r.cpuMs);
      acc.load1.push(...r.load1);
      all.set(`${r.case}/${variant}`, acc);
    });
  console.log(`backend ${backend.name} (simd ${backend.simd}, threads ${backend.threads}); policy ${hidden.join('-')} tanh; ${T} tasks x ${K} episodes x ${H} steps; ${repeats} repeats; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  try {
    for (let rep = 0; rep < repeats; rep++) {
      if (beforeDir) {
        console.log(`repeat ${rep + 1}: before (${before})`);
        add('before', measure(beforeDir, dataFile, only));
      }
      console.log(`repeat ${rep + 1}: after (this tree)${args.includes('--reference') ? ' and its reference path' : ''}`);
      add('after', measure(root, dataFile, [...only, ...(args.includes('--reference') ? ['--reference'] : [])]));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (beforeDir && existsSync(beforeDir)) rmSync(beforeDir, { recursive: true, force: true });
  }
  const rows = [...all.values()];
  const speedup = (r: CaseResult, k: 'wallMs' | 'cpuMs') => {
    const b = rows.find((x) => x.case === r.case && x.variant === 'before');
    return b && r.variant !== 'before' ? `${(median(b[k]) / median(r[k])).toFixed(1)}x` : '';
  };
  console.log(`\n| case | variant | median ms (wall) | median ms (cpu) | speed-up wall / cpu | repeats (wall ms) | load1 |\n| --- | --- | ---: | ---: | ---: | --- | --- |`);
  for (const r of rows.sort((a, b) => a.case.localeCompare(b.case))) {
    const load = `${Math.min(...r.load1).toFixed(1)}-${Math.max(...r.load1).toFixed(1)}`;
    console.log(`| ${r.case} | ${r.variant} | ${median(r.wallMs).toFixed(0)} | ${median(r.cpuMs).toFixed(0)} | ${speedup(r, 'wallMs')} / ${speedup(r, 'cpuMs')} | ${r.wallMs.map((x) => x.toFixed(0)).join(', ')} | ${load} |`);
  }
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `rl-${hidden.join('x')}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { cpu: cpus()[0]?.model, cpus: cpus().length, node: process.version, backend };
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), protocol: { tasks: T, episodesPerTask: K, horizon: H, hidden, activation: 'tanh', repeats, before }, machine, results: rows }, null, 2));
  console.log(`\nwrote ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
