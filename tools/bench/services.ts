import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginManifest, PluginRegistry } from '@chameleon/plugins';
import type { RunStatus, WatchRunResponse } from '@chameleon/proto';
import type { Embedded } from '../../apps/cli/src/embedded';
import { cpuSeconds, type Rate } from './in-process';
import { runConfig } from './setup';

export interface ServicesResult extends Rate {
  readonly iterations: number;
  readonly state: string;
  readonly lastLoss: number;
  /** Mean milliseconds per timed iteration in each traced phase (the run's own phase timers). */
  readonly phasesMs: Record<string, number>;
}

/**
 * The built-in plugins, with MAML forced onto its generic path when `fused` is false (the
 * "before" of the fused path, through the same services).
 */
function registry(fused: boolean): PluginRegistry {
  const { builtinPlugins } = require('@chameleon/builtins') as typeof import('@chameleon/builtins');
  const { Maml } = require('@chameleon/meta') as typeof import('@chameleon/meta');
  const { PluginRegistry } = require('@chameleon/plugins') as typeof import('@chameleon/plugins');
  const plugins = builtinPlugins.map((p): PluginManifest => {
    if (fused || p.kind !== 'algorithm' || (p.name !== 'maml' && p.name !== 'fomaml')) return p;
    const firstOrder = p.name === 'fomaml';
    return { ...p, create: (config) => new Maml({ firstOrder: firstOrder || Boolean((config as { firstOrder?: boolean }).firstOrder) }, { fused: false }) };
  });
  return new PluginRegistry().registerAll(plugins);
}

/**
 * The five services in this process on loopback gRPC, started as `chameleon train` starts
 * them. Required lazily: @grpc/grpc-js must load after telemetry is initialised.
 */
export async function startServices(fused: boolean): Promise<{ embedded: Embedded; dir: string }> {
  const { startEmbedded } = require('../../apps/cli/src/embedded') as typeof import('../../apps/cli/src/embedded');
  const dir = mkdtempSync(join(tmpdir(), 'chameleon-bench-'));
  const embedded = await startEmbedded(registry(fused), { runsDir: dir, log: () => undefined });
  return { embedded, dir };
}

/**
 * One real meta-optimiser run of `warmup + iterations` meta-iterations; every iteration is
 * SampleTasks, SampleSupervised and MetaGradient over gRPC plus the Adam step, traced.
 * The rate is taken from the progress events after the warm-up.
 */
export async function timeRun(embedded: Embedded, dir: string, algorithm: 'maml' | 'fomaml', warmup: number, iterations: number, tag: string): Promise<ServicesResult> {
  const total = warmup + iterations;
  const { RunState } = require('@chameleon/proto') as typeof import('@chameleon/proto');
  const run = await embedded.metaOptimiser.start({ runId: `bench-${algorithm}-${tag}`, config: runConfig(algorithm, total), outputDir: join(dir, `${algorithm}-${tag}`), resumeFrom: '' });
  const at = new Map<number, number>();
  const cpu = new Map<number, number>();
  const phases: Record<string, number> = {};
  let lastLoss = NaN;
  const final = await new Promise<RunStatus>((resolve) => {
    const stop = run.subscribe((e: WatchRunResponse) => {
      const ev = e.event;
      if (ev?.$case === 'progress') {
        at.set(ev.progress.iteration, performance.now());
        cpu.set(ev.progress.iteration, cpuSeconds());
        lastLoss = ev.progress.metaLoss;
        if (ev.progress.iteration > warmup) {
          for (const [k, v] of Object.entries(ev.progress.phaseSeconds)) phases[k] = (phases[k] ?? 0) + (v * 1000) / iterations;
        }
      } else if (ev?.$case === 'finished') {
        stop();
        resolve(ev.finished);
      }
    });
  });
  const t0 = at.get(warmup);
  const t1 = at.get(total);
  const ok = final.state === RunState.RUN_STATE_COMPLETED && t0 !== undefined && t1 !== undefined;
  const phasesMs = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, +v.toFixed(3)]));
  const itPerCpuSec = ok ? iterations / (cpu.get(total)! - cpu.get(warmup)!) : NaN;
  return { itPerSec: ok ? (iterations * 1000) / (t1! - t0!) : NaN, itPerCpuSec, iterations, state: RunState[final.state], lastLoss, phasesMs };
}

export async function stopServices(embedded: Embedded, dir: string): Promise<void> {
  await embedded.shutdown(2000);
  rmSync(dir, { recursive: true, force: true });
}
