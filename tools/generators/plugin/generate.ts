import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Plugin kinds the generator can scaffold. `agent` is refused until the agent role exists. */
export const GENERATOR_KINDS = ['task-family', 'environment', 'algorithm', 'model'] as const;
export type GeneratorKind = (typeof GENERATOR_KINDS)[number];

/** Names a plugin may take: what the registry accepts, without leading, trailing or double dashes. */
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME = 50;

/** The repository this generator lives in (tools/generators/plugin -> root). */
export const WORKSPACE_ROOT = resolve(__dirname, '../../..');
const TEMPLATES = join(__dirname, 'templates');

/** Bad arguments: the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface PluginGeneratorOptions {
  /** What the plugin provides: one of GENERATOR_KINDS. */
  readonly kind?: string;
  /** Plugin name, lower-case kebab-case; also the folder name. */
  readonly name?: string;
  /** Parent folder, relative to the workspace root unless absolute. Default "plugins". */
  readonly dir?: string;
  /** Default: the repository this generator lives in. */
  readonly workspaceRoot?: string;
  /**
   * Names already taken for a kind (the built-ins), asked only once kind and name are valid.
   * Refused because the loader keeps the first plugin of a name and would silently ignore
   * the new one. Default none.
   */
  readonly reserved?: (kind: GeneratorKind) => readonly string[];
}

export interface GeneratedPlugin {
  readonly kind: GeneratorKind;
  readonly name: string;
  /** Absolute path of the new folder. */
  readonly folder: string;
  /** The folder relative to the workspace root, with forward slashes. */
  readonly projectRoot: string;
  /** nx project name and jest displayName: the project root with dashes, unique by construction. */
  readonly projectName: string;
  /** Absolute paths of the files written. */
  readonly files: string[];
}

/**
 * Scaffolds a plugin folder: a minimal working implementation of the kind, its README,
 * a spec running the kind's contract, and the nx/jest project files. Validates everything
 * before writing anything; never overwrites.
 *
 * @example
 *   generatePlugin({ kind: 'task-family', name: 'linear-regression', dir: 'examples/plugins' });
 */
export function generatePlugin(options: PluginGeneratorOptions): GeneratedPlugin {
  const kind = checkKind(options.kind);
  const name = checkName(options.name);
  const taken = options.reserved?.(kind) ?? [];
  if (taken.includes(name)) {
    throw new UsageError(
      `a built-in ${kind} plugin is already named "${name}"; the loader keeps the first plugin of a name, so yours would be ignored: choose another --name`,
    );
  }
  const root = resolve(options.workspaceRoot ?? WORKSPACE_ROOT);
  const parent = resolve(root, options.dir ?? 'plugins');
  const folder = join(parent, name);
  const projectRoot = relative(root, folder).split(sep).join('/');
  if (isAbsolute(projectRoot) || projectRoot.startsWith('..')) {
    throw new UsageError(`--dir ${options.dir} is outside the workspace ${root}: a plugin must live inside it to import the @chameleon/* packages`);
  }
  if (existsSync(folder)) {
    throw new UsageError(`${projectRoot} already exists; refusing to overwrite it: choose another --name or --dir, or remove the folder`);
  }
  const files = renderFiles(kind, name, root, folder, projectRoot);
  mkdirSync(parent, { recursive: true });
  try {
    mkdirSync(folder);
  } catch (e) {
    throw new UsageError(`cannot create ${projectRoot}: ${(e as Error).message}`);
  }
  for (const [file, text] of files) writeFileSync(join(folder, file), text);
  return { kind, name, folder, projectRoot, projectName: projectNameOf(projectRoot), files: [...files.keys()].map((f) => join(folder, f)) };
}

function checkKind(kind: string | undefined): GeneratorKind {
  const known = GENERATOR_KINDS.join(', ');
  if (!kind) throw new UsageError(`--kind is required: one of ${known}`);
  if (kind === 'agent') throw new UsageError(`agent plugins arrive with the continuous-adaptation work; kinds available now: ${known}`);
  if (!(GENERATOR_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown --kind "${kind}": expected one of ${known}`);
  return kind as GeneratorKind;
}

function checkName(name: string | undefined): string {
  if (!name) throw new UsageError('--name is required, e.g. --name linear-regression');
  if (!KEBAB.test(name) || name.length > MAX_NAME) {
    throw new UsageError(
      `--name "${name}" must be lower-case kebab-case of at most ${MAX_NAME} characters: letters, digits and single dashes, starting with a letter (e.g. "linear-regression")`,
    );
  }
  return name;
}

const projectNameOf = (projectRoot: string): string => projectRoot.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');

/** Output file name -> rendered text. */
function renderFiles(kind: GeneratorKind, name: string, root: string, folder: string, projectRoot: string): Map<string, string> {
  const posix = (p: string) => p.split(sep).join('/');
  const pascal = name
    .split('-')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
  const projectName = projectNameOf(projectRoot);
  const vars: Record<string, string> = {
    kind,
    name,
    Name: pascal,
    nameCamel: pascal[0].toLowerCase() + pascal.slice(1),
    projectName,
    projectRoot,
    packageName: `@chameleon/${projectName}`,
    preset: posix(relative(folder, join(root, 'jest.preset.js'))),
    schema: posix(relative(folder, join(root, 'node_modules/nx/schemas/project-schema.json'))),
    fromConfigs: posix(relative(join(root, 'configs'), folder)),
  };
  vars.about = render(template(`${kind}/about.md.tmpl`), vars);
  vars.configExample = render(template(`${kind}/config.yaml.tmpl`), vars).trimEnd();
  return new Map([
    ['index.ts', render(template(`${kind}/index.ts.tmpl`), vars)],
    [`${name}.spec.ts`, render(template(`${kind}/spec.ts.tmpl`), vars)],
    ['README.md', render(template('common/README.md.tmpl'), vars)],
    ['project.json', render(template('common/project.json.tmpl'), vars)],
    ['jest.config.js', render(template('common/jest.config.js.tmpl'), vars)],
    ['package.json', render(template('common/package.json.tmpl'), vars)],
  ]);
}

const template = (path: string): string => readFileSync(join(TEMPLATES, path), 'utf8');

/** Replaces `__token__` placeholders; an unknown token is a bug in a template, so it throws. */
export function render(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/__([A-Za-z]+)__/g, (whole, token: string) => {
    const value = vars[token];
    if (value === undefined) throw new Error(`template placeholder ${whole} has no value`);
    return value;
  });
}
