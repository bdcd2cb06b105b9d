import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { invalidArgument } from '@chameleon/core';
import { manifestProblems, type PluginManifest } from './manifest';
import type { PluginRegistry } from './registry';

/**
 * Loads an external plugin module and registers what it exports: either `plugins` (an
 * array of manifests), a `plugin` manifest, or a default export of either. TypeScript
 * modules load when the process runs with a TypeScript loader (the `chameleon` CLI does).
 *
 * @param modulePath path of the module, relative to `baseDir` unless absolute.
 */
export function loadPluginModule(registry: PluginRegistry, modulePath: string, baseDir = process.cwd()): PluginManifest[] {
  const full = isAbsolute(modulePath) ? modulePath : resolve(baseDir, modulePath);
  const candidates = [full, `${full}.ts`, `${full}.js`, resolve(full, 'index.ts'), resolve(full, 'index.js')];
  const found = candidates.find((c) => existsSync(c) && !c.endsWith('/'));
  if (!found) throw invalidArgument('plugins', `plugin module not found: ${full}`);
  let mod: Record<string, unknown>;
  try {
    mod = require(found);
  } catch (e) {
    throw invalidArgument('plugins', `plugin module ${found} failed to load: ${(e as Error).message}`);
  }
  const manifests = collect(mod);
  if (manifests.length === 0) {
    throw invalidArgument('plugins', `${found} exports no plugin: export \`plugins\` (an array of manifests) or \`plugin\``);
  }
  for (const m of manifests) {
    const problems = manifestProblems(m);
    if (problems.length) throw invalidArgument('plugins', `${found}: ${problems.join('; ')}`);
    if (!registry.has(m.kind, m.name)) registry.register(m);
  }
  return manifests;
}

function collect(mod: Record<string, unknown>): PluginManifest[] {
  const pick = (v: unknown): PluginManifest[] =>
    Array.isArray(v) ? (v as PluginManifest[]) : v && typeof v === 'object' && 'kind' in v ? [v as PluginManifest] : [];
  const direct = [...pick(mod.plugins), ...pick(mod.plugin)];
  if (direct.length) return direct;
  const d = mod.default as Record<string, unknown> | undefined;
  if (!d) return [];
  return [...pick(d), ...pick(d.plugins), ...pick(d.plugin)];
}
