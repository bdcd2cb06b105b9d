import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isRlConfig, loadRunConfig, parseAnyRunConfig, withOverride } from './load';

const root = resolve(__dirname, '../../..');
const shipped = [
  ...readdirSync(join(root, 'configs')).map((f) => join(root, 'configs', f)),
  join(root, 'examples/configs/linear-regression-maml.yaml'),
  join(root, 'examples/python-simulator/py-point-maml.yaml'),
].filter((f) => f.endsWith('.yaml'));

describe('run configs', () => {
  it.each(shipped)('%s validates', (file) => {
    const c = loadRunConfig(file);
    expect(c.name).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it('ships a small, a reproduction and a paper-scale config for every RL environment', () => {
    for (const env of ['2d-navigation', 'halfcheetah-vel', 'halfcheetah-dir', 'ant-dir', 'ant-goal']) {
      for (const suffix of ['', '-reproduce', '-paper']) {
        const c = loadRunConfig(join(root, 'configs', `${env}-maml${suffix}.yaml`));
        expect(isRlConfig(c) && c.task.family).toBe(env);
      }
    }
  });

  it('names the field and what is allowed when a config is wrong', () => {
    expect(() => parseAnyRunConfig({ meta: { batchSize: 0 } })).toThrow(/config\.meta\.batchSize: Too small/);
    expect(() => parseAnyRunConfig({ meta: { optimiser: { name: 'adamw' } } })).toThrow(/config\.meta\.optimiser\.name: .*"adam"\|"sgd"/);
    expect(() => parseAnyRunConfig({ kind: 'rl', inner: { learningRate: -1 } })).toThrow(/config\.inner\.learningRate/);
    expect(() => parseAnyRunConfig({ kind: 'rl', meta: { batchSize: 5, bogus: 1 } })).toThrow(/config\.meta/);
    expect(() => parseAnyRunConfig({ kind: 'unsupervised' })).toThrow(/config\.kind: must be "supervised" \(default\) or "rl"/);
    expect(() => loadRunConfig(join(root, 'nope.yaml'))).toThrow(/--config: cannot read/);
  });

  it('fills defaults and applies overrides through validation', () => {
    const c = parseAnyRunConfig({});
    expect(isRlConfig(c)).toBe(false);
    expect(withOverride(c, 'meta.iterations', 7).meta.iterations).toBe(7);
    expect(() => withOverride(c, 'meta.iterations', 0)).toThrow(/config\.meta\.iterations/);
    const rl = parseAnyRunConfig({ kind: 'rl' });
    expect(isRlConfig(rl) && rl.inner).toEqual({ steps: 1, learningRate: 0.1, discount: 0.99, gaeLambda: 1 });
    // Pre and post rollouts on the same tasks (MAML) unless the run asks for pairs (T_i, T_{i+1}).
    expect(isRlConfig(rl) && rl.meta.taskPairs).toBe(false);
    expect(isRlConfig(rl) && parseAnyRunConfig({ kind: 'rl', meta: { taskPairs: true } }).meta).toMatchObject({ taskPairs: true, batchSize: 20 });
  });

  it('rejects misspelt keys at any depth, naming them, for supervised and rl runs (never a silent default run)', () => {
    expect(() => parseAnyRunConfig({ iteratoins: 5 }, 'config')).toThrow(/config: Unrecognized key.*"iteratoins"/);
    expect(() => parseAnyRunConfig({ meta: { iteratons: 3 } }, 'config')).toThrow(/config\.meta: Unrecognized key.*"iteratons"/);
    expect(() => parseAnyRunConfig({ kind: 'rl', meta: { horizn: 10 } }, 'config')).toThrow(/config\.meta: Unrecognized key.*"horizn"/);
  });
});
