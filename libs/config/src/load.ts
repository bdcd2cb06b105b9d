import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { invalidArgument, zodToInvalidArgument } from '@chameleon/core';
import { runConfig, type RunConfig } from './run-config';
import { rlRunConfig, type RlRunConfig } from './rl-run-config';

/** Any run: supervised (the default) or reinforcement learning (`kind: rl`). */
export type AnyRunConfig = RunConfig | RlRunConfig;

export const isRlConfig = (c: AnyRunConfig): c is RlRunConfig => (c as RlRunConfig).kind === 'rl';

/** Validates a run configuration of either kind, chosen by its `kind` field. */
export function parseAnyRunConfig(value: unknown, field = 'config'): AnyRunConfig {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind === 'rl') {
    const parsed = rlRunConfig.safeParse(value);
    if (!parsed.success) throw zodToInvalidArgument(parsed.error, field);
    return parsed.data;
  }
  if (kind !== undefined && kind !== 'supervised') throw invalidArgument(`${field}.kind`, `must be "supervised" (default) or "rl", got ${JSON.stringify(kind)}`);
  const { kind: _k, ...rest } = (value ?? {}) as Record<string, unknown>;
  return parseRunConfig(rest, field);
}

/** Validates a run configuration object; errors name the field, e.g. `config.meta.batchSize`. */
export function parseRunConfig(value: unknown, field = 'config'): RunConfig {
  const parsed = runConfig.safeParse(value ?? {});
  if (!parsed.success) throw zodToInvalidArgument(parsed.error, field);
  return parsed.data;
}

/**
 * Reads a YAML (or JSON) run configuration file. Plugin paths become absolute, relative to
 * the file, so the config means the same thing wherever it is sent.
 */
export function loadRunConfig(path: string): AnyRunConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw invalidArgument('--config', `cannot read ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw invalidArgument('--config', `${path} is not valid YAML: ${(e as Error).message}`);
  }
  const config = parseAnyRunConfig(value, 'config');
  const base = dirname(resolve(path));
  return { ...config, plugins: config.plugins.map((p) => (isAbsolute(p) ? p : resolve(base, p))) };
}

/** Sets a dotted path (e.g. "meta.iterations") on a copy of a plain object. */
export function withOverride<C extends AnyRunConfig>(config: C, path: string, value: unknown): C {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  const keys = path.split('.');
  let node = copy;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
  return parseAnyRunConfig(copy) as C;
}
