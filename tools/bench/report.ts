import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { median } from './setup';

/** One timed repeat: iterations per wall-clock second, per CPU second of this process, and the load then. */
export interface Sample {
  readonly itPerSec: number;
  readonly itPerCpuSec: number;
  readonly load1: number;
}

/** One line of the result table. */
export interface Row {
  readonly name: string;
  readonly where: 'in-process' | 'services';
  /** Iterations per repeat. */
  readonly iterations: number;
  /** Median over repeats, per wall-clock second: the number the targets are about. */
  readonly median: number;
  /** Median over repeats, per CPU second of this process: what the code does, less what other processes take. */
  readonly cpuMedian: number;
  readonly itPerSec: number[];
  readonly itPerCpuSec: number[];
  /** 1-minute load average at the start of each repeat. */
  readonly load1: number[];
  readonly lastLoss: number;
}

export const load1 = (): number => +loadavg()[0].toFixed(2);

export function row(name: string, where: Row['where'], iterations: number, samples: readonly Sample[], lastLoss: number): Row {
  const wall = samples.map((s) => +s.itPerSec.toFixed(1));
  const cpu = samples.map((s) => +s.itPerCpuSec.toFixed(1));
  return { name, where, iterations, median: median(wall), cpuMedian: median(cpu), itPerSec: wall, itPerCpuSec: cpu, load1: samples.map((s) => s.load1), lastLoss };
}

export function table(rows: readonly Row[]): string {
  const head = `${'variant'.padEnd(15)} ${'where'.padEnd(11)} ${'it/s'.padStart(7)} ${'it/cpu-s'.padStart(9)}  ${'repeats (it/s)'.padEnd(36)} load1`;
  const lines = rows.map(
    (r) => `${r.name.padEnd(15)} ${r.where.padEnd(11)} ${r.median.toFixed(1).padStart(7)} ${r.cpuMedian.toFixed(1).padStart(9)}  ${r.itPerSec.map((v) => v.toFixed(1)).join(', ').padEnd(36)} ${r.load1.join(', ')}`,
  );
  return [`medians of ${rows[0]?.itPerSec.length ?? 0} repeats; it/cpu-s counts this process's CPU time only`, head, ...lines].join('\n');
}

/** Writes the result as tools/bench/results/maml-sinusoid-<date>.json; returns the path. */
export function writeResult(result: { date: string } & Record<string, unknown>): string {
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `maml-sinusoid-${result.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
