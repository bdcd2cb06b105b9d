#!/usr/bin/env node
// `npm test`: type-check, lint (with nx module boundaries), then every jest project.
import { spawnSync } from 'node:child_process';

const env = { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false' };
const steps = [
  ['type-check', 'npx', ['--no-install', 'tsc', '-p', 'tsconfig.json', '--noEmit']],
  // The module-boundaries rule reads nx's project graph and silently skips itself when none is
  // cached (a fresh clone): compute it first so the rule runs.
  ['project graph', 'npx', ['--no-install', 'nx', 'show', 'projects']],
  ['lint', 'npx', ['--no-install', 'eslint', '.']],
  ['tests', 'npx', ['--no-install', 'jest', '--ci', '--maxWorkers=2', ...process.argv.slice(2)]],
];
for (const [label, cmd, args] of steps) {
  const started = Date.now();
  process.stderr.write(`\n== ${label}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  process.stderr.write(`== ${label}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}
