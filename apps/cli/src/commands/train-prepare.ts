import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadRunConfig, withOverride, type AnyRunConfig } from '@chameleon/config';
import { positiveInt } from './shared-args';

export interface TrainFlags {
  config: string;
  iterations?: string;
  out?: string;
  services?: string;
  backend?: string;
  report?: boolean;
  resume?: string;
}

export interface PreparedTrain {
  readonly config: AnyRunConfig;
  readonly outDir: string;
  readonly flags: TrainFlags;
}

/** Validates the config and creates the run folder (before telemetry, which writes there). */
export function prepareTrain(flags: TrainFlags): PreparedTrain {
  let config = loadRunConfig(flags.config);
  const iterations = positiveInt(flags.iterations, '--iterations');
  if (iterations !== undefined) config = withOverride(config, 'meta.iterations', iterations);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const outDir = resolve(flags.out ?? join('runs', `${config.name}-${stamp}`));
  mkdirSync(outDir, { recursive: true });
  return { config, outDir, flags };
}
