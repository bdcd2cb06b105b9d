/**
 * `npm run new:plugin -- --kind <kind> --name <kebab-name> [--dir plugins]`: scaffolds a
 * plugin folder. Exit codes: 0 written, 2 bad arguments (nothing written), 1 anything else.
 */
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { GENERATOR_KINDS, UsageError, generatePlugin } from './generate';

const USAGE_LINE = `usage: npm run new:plugin -- --kind <${GENERATOR_KINDS.join('|')}> --name <kebab-name> [--dir plugins]`;
const USAGE = `${USAGE_LINE}

  --kind   what the plugin provides
  --name   plugin name, lower-case kebab-case; also the folder name
  --dir    parent folder, relative to the repository root (default: plugins)`;

/** Built-in plugin names of a kind: a plugin of the same kind and name would be ignored by the loader. */
function builtinNames(kind: string): string[] {
  // Loaded only when needed: it brings in TensorFlow.js.
  const { builtinPlugins } = require('@chameleon/builtins') as typeof import('@chameleon/builtins');
  return builtinPlugins.filter((p) => p.kind === kind).map((p) => p.name);
}

export function main(argv: readonly string[]): number {
  let values: { kind?: string; name?: string; dir?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { kind: { type: 'string' }, name: { type: 'string' }, dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n${USAGE_LINE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const plugin = generatePlugin({ kind: values.kind, name: values.name, dir: values.dir, reserved: builtinNames });
    const root = plugin.projectRoot;
    process.stdout.write(
      [
        `created ${root} (${plugin.kind} plugin "${plugin.name}", nx project "${plugin.projectName}"):`,
        ...plugin.files.map((f) => `  ${relative(process.cwd(), f)}`),
        'next:',
        `  fill in the paper and settings in ${root}/README.md`,
        `  npx jest --config ${root}/jest.config.js`,
        `  node apps/cli/bin/chameleon.js plugins --plugins ${root}`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n${USAGE_LINE}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
