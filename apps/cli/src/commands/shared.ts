export { positiveInt } from './shared-args';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { invalidArgument, zodToInvalidArgument } from '@chameleon/core';
import { servicesFile, type ServicesFile } from '@chameleon/config';
import { initBackend, type BackendPreference } from '@chameleon/nn';
import { env } from '../env';
import { log } from '../log';

/** Chooses the compute backend from the flag, then CHAMELEON_BACKEND, then auto. */
export async function backend(flag?: string) {
  const pref = (flag ?? env('backend') ?? 'auto') as BackendPreference;
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(pref)) throw invalidArgument('--backend', `must be auto, tensorflow, wasm or cpu, got ${pref}`);
  return initBackend(pref, log);
}

export function readServicesFile(path: string): ServicesFile {
  let value: unknown;
  try {
    value = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw invalidArgument('--services', `cannot read ${path}: ${(e as Error).message}`);
  }
  const parsed = servicesFile.safeParse(value);
  if (!parsed.success) throw zodToInvalidArgument(parsed.error, '--services');
  return parsed.data;
}

/**
 * Runs `stop` on the first SIGINT/SIGTERM; a second signal exits at once. Resolves when the
 * process should exit.
 */
export function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        log(`${signal} again: exiting now`);
        process.exit(130);
      }
      stopping = true;
      log(`${signal}: shutting down (in-flight calls finish; runs checkpoint)`);
      stop().then(resolve, (e) => {
        log(`shutdown error: ${(e as Error).message}`);
        resolve();
      });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
