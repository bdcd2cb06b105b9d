import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function packageDir(entry: string): string | undefined {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return undefined;
}

/**
 * Every vega-scenegraph module file that vega loads. npm may install several versions side
 * by side (vega 6.2 pulls 5.1 at the top and 5.3 under vega-view, vega-functions, ...), each
 * with its own text-measuring hook, so the worker has to patch all of them. Walks the vega-*
 * dependency graph from `vegaEntry` with Node's own resolution.
 */
export function findScenegraphCopies(vegaEntry: string): string[] {
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (entry: string): void => {
    const dir = packageDir(entry);
    if (!dir || seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const resolveFrom = createRequire(join(dir, 'package.json'));
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (!dep.startsWith('vega-')) continue;
      let resolved: string;
      try {
        resolved = resolveFrom.resolve(dep);
      } catch {
        continue;
      }
      if (dep === 'vega-scenegraph') found.add(resolved);
      else visit(resolved);
    }
  };
  visit(vegaEntry);
  return [...found].sort();
}
