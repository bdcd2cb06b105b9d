import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { GENERATOR_KINDS, UsageError, WORKSPACE_ROOT, generatePlugin, render } from './generate';

// The generated code imports @chameleon/* through the workspace's node_modules, so the
// scratch folder lives inside the workspace, under the git- and nx-ignored tmp/.
let scratch: string;
let fromCli: { code: number | null; stdout: string; stderr: string };
const MAIN = ['-r', '@swc-node/register', 'tools/generators/plugin/main.ts'];
// A nested jest or node must not think it is one of this jest's workers.
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JEST_')));
/** The nx project name: the folder's path from the workspace root, with dashes. */
const projectNameOf = (folder: string) => relative(WORKSPACE_ROOT, folder).toLowerCase().replace(/[^a-z0-9]+/g, '-');

beforeAll(async () => {
  mkdirSync(join(WORKSPACE_ROOT, 'tmp'), { recursive: true });
  scratch = mkdtempSync(join(WORKSPACE_ROOT, 'tmp', 'plugin-generator-'));
  // One kind through the command line, as `npm run new:plugin` runs it; the others in process.
  fromCli = await cli(['--kind', 'task-family', '--name', 'sample-task-family', '--dir', relative(WORKSPACE_ROOT, scratch)]);
  for (const kind of GENERATOR_KINDS.filter((k) => k !== 'task-family')) generatePlugin({ kind, name: `sample-${kind}`, dir: scratch });
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs the CLI as `npm run new:plugin` does; resolves with its exit code and output. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...MAIN, ...args], { cwd: WORKSPACE_ROOT, env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('new:plugin', () => {
  it('is the npm script that runs this generator', () => {
    const pkg = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts['new:plugin']).toBe(`node ${MAIN.join(' ')}`);
  });

  it('writes a plugin from the command line and exits 0', () => {
    expect(fromCli.stderr).toBe('');
    expect(fromCli.code).toBe(0);
    expect(fromCli.stdout).toMatch(/created .*sample-task-family \(task-family plugin "sample-task-family", nx project "tmp-plugin-generator-/);
  });

  describe.each(GENERATOR_KINDS.map((k) => [k]))('the %s template', (kind) => {
    const name = `sample-${kind}`;
    const Name = name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
    const file = (f: string) => readFileSync(join(scratch, name, f), 'utf8');

    it('writes the implementation, its spec, README and project files, with every placeholder filled', () => {
      expect(readdirSync(join(scratch, name)).sort()).toEqual(
        ['README.md', 'index.ts', 'jest.config.js', `${name}.spec.ts`, 'package.json', 'project.json'].sort(),
      );
      for (const f of readdirSync(join(scratch, name))) expect(file(f)).not.toMatch(/__[A-Za-z]+__/);
    });

    it('substitutes the name: manifest, classes, README', () => {
      expect(file('index.ts')).toContain(`kind: '${kind}',\n  name: '${name}',`);
      expect(file('index.ts')).toMatch(new RegExp(`export class ${Name}\\w* implements`));
      expect(file('index.ts')).toContain('export const plugins: PluginManifest[] = [');
      expect(file(`${name}.spec.ts`)).toContain(`from './index'`);
      expect(file('README.md')).toContain(`# ${name} (${kind} plugin)`);
      expect(file('README.md')).toContain('TODO (author):** cite the paper');
    });

    it('makes an nx project tagged type:domain whose jest config reaches the workspace preset', () => {
      const folder = join(scratch, name);
      const projectName = projectNameOf(folder);
      const project = JSON.parse(file('project.json'));
      expect(project.name).toBe(projectName);
      expect(project.tags).toEqual(['type:domain']);
      expect(project.targets.test.options.jestConfig).toBe(`${relative(WORKSPACE_ROOT, folder)}/jest.config.js`);
      expect(existsSync(resolve(scratch, name, project.$schema))).toBe(true);
      const jestConfig = require(join(scratch, name, 'jest.config.js'));
      expect(jestConfig.displayName).toBe(projectName);
      expect(resolve(scratch, name, jestConfig.preset)).toBe(join(WORKSPACE_ROOT, 'jest.preset.js'));
      expect(JSON.parse(file('package.json'))).toMatchObject({ name: `@chameleon/${projectName}`, main: 'index.ts' });
    });
  });

  it('passes its own contract: the generated specs of every kind run green under jest', () => {
    const projects = GENERATOR_KINDS.map((k) => join(scratch, `sample-${k}`, 'jest.config.js'));
    writeFileSync(join(scratch, 'jest.config.js'), `module.exports = { projects: ${JSON.stringify(projects)} };\n`);
    const report = join(scratch, 'report.json');
    const run = spawnSync(
      process.execPath,
      [require.resolve('jest/bin/jest'), '--config', join(scratch, 'jest.config.js'), '--ci', '--silent', '--json', '--outputFile', report],
      { cwd: WORKSPACE_ROOT, env: childEnv, encoding: 'utf8', timeout: 50_000 },
    );
    expect(existsSync(report)).toBe(true);
    const results = JSON.parse(readFileSync(report, 'utf8'));
    const failures = results.testResults.flatMap((s: { assertionResults: { status: string; fullName: string }[] }) =>
      s.assertionResults.filter((a) => a.status !== 'passed').map((a) => a.fullName),
    );
    expect(failures).toEqual([]);
    expect(results.numTotalTestSuites).toBe(GENERATOR_KINDS.length);
    expect(results.numPassedTests).toBeGreaterThanOrEqual(30);
    expect(run.status).toBe(0);
  });

  describe('refuses bad arguments with exit code 2 and a message naming the problem', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['no kind', ['--name', 'x'], /--kind is required/],
      ['an unknown kind', ['--kind', 'optimiser', '--name', 'x'], /unknown --kind "optimiser": expected one of task-family, environment, algorithm, model/],
      ['the agent kind, for now', ['--kind', 'agent', '--name', 'x'], /agent plugins arrive with the continuous-adaptation work/],
      ['no name', ['--kind', 'model'], /--name is required/],
      ['a name that is not kebab-case', ['--kind', 'model', '--name', 'My_Model'], /--name "My_Model" must be lower-case kebab-case/],
      ['a trailing dash', ['--kind', 'model', '--name', 'model-'], /must be lower-case kebab-case/],
      ['a built-in name of the same kind', ['--kind', 'algorithm', '--name', 'maml'], /a built-in algorithm plugin is already named "maml"/],
      ['a folder outside the workspace', ['--kind', 'model', '--name', 'x', '--dir', '/tmp'], /outside the workspace/],
      ['an unknown option', ['--kind', 'model', '--name', 'x', '--force'], /Unknown option '--force'/],
    ];

    it.each(cases)('%s', async (_label, args, message) => {
      const out = await cli(args);
      expect(out.stderr).toMatch(message);
      expect(out.stderr).toMatch(/usage: npm run new:plugin/);
      expect(out.code).toBe(2);
    });

    it('an existing folder, which it leaves untouched', async () => {
      const index = join(scratch, 'sample-model', 'index.ts');
      const before = readFileSync(index, 'utf8');
      const out = await cli(['--kind', 'model', '--name', 'sample-model', '--dir', relative(WORKSPACE_ROOT, scratch)]);
      expect(out.stderr).toMatch(/sample-model already exists; refusing to overwrite it/);
      expect(out.code).toBe(2);
      expect(readFileSync(index, 'utf8')).toBe(before);
    });

    it('as a UsageError when called as a function, writing nothing', () => {
      expect(() => generatePlugin({ kind: 'model', name: '9lives', dir: scratch })).toThrow(UsageError);
      expect(existsSync(join(scratch, '9lives'))).toBe(false);
    });
  });

  it('refuses a template placeholder it has no value for', () => {
    expect(render('a __name__ b', { name: 'x' })).toBe('a x b');
    expect(() => render('__nope__', {})).toThrow(/__nope__ has no value/);
  });
});
