#!/usr/bin/env node
// Completes package-lock.json with the other platforms' optional native binaries.
//
// Why: the npm registry this project installs from serves only the Linux builds of packages
// such as @swc/core, @bufbuild/buf and unrs-resolver (their darwin/win32/... builds answer
// 404). npm then leaves those optional dependencies out of the lock file, and `npm ci`
// refuses the lock as out of sync ("Missing: @swc/core-darwin-arm64@ from lock file"). An
// entry with the pinned version and the platform (os/cpu/libc, read from the package name)
// satisfies `npm ci`, which skips it on this platform without fetching anything.
//
// Run it after every dependency change: `npm run lock:platforms` (CI fails without it).
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;

const OS = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openharmony', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'armv7', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];

/** os/cpu/libc from names like "@swc/core-linux-arm-gnueabihf" or "@unrs/resolver-binding-win32-x64-msvc". */
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpuPart = parts.find((p) => CPU.includes(p));
  if (!os || !cpuPart) return undefined;
  const cpu = cpuPart === 'armv7' ? 'arm' : cpuPart;
  const libc = parts.includes('musl') || parts.includes('musleabihf') ? 'musl' : os === 'linux' && (parts.includes('gnu') || parts.includes('gnueabihf')) ? 'glibc' : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${location ? `${location}/` : ''}node_modules/${dep}`;
    const hoisted = `node_modules/${dep}`;
    if (packages[nested] || packages[hoisted]) continue;
    const platform = platformOf(dep);
    const version = /^\d+\.\d+\.\d+(-[\w.]+)?$/.test(range) ? range : undefined;
    if (!platform || !version) continue;
    packages[hoisted] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platforms: added ${added} optional platform entr${added === 1 ? 'y' : 'ies'}`);
