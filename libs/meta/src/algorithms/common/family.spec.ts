import { join } from 'node:path';
import { initBackend, Mlp, mlpConfig } from '@chameleon/nn';
import { loadPluginModule, manifestProblems, PluginRegistry } from '@chameleon/plugins';
import type { MetaAlgorithm } from '../../types';
import familyDefault, { familyAlgorithms } from '../family';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('familyAlgorithms', () => {
  const model = new Mlp(mlpConfig.parse({}));

  it('are valid plugin manifests whose configs all have defaults, named as their algorithms', () => {
    expect(familyAlgorithms.map((m) => m.name)).toEqual(['meta-sgd', 'anil', 'maml-plus-plus', 'cavia', 'imaml', 'mr-maml']);
    const registry = new PluginRegistry().registerAll(familyAlgorithms);
    for (const m of familyAlgorithms) {
      expect(manifestProblems(m)).toEqual([]);
      const alg = registry.create<MetaAlgorithm>('algorithm', m.name, {});
      expect(alg.name).toBe(m.name);
      expect(alg.init(model, 1).map((v) => v.length)).toEqual(alg.paramSpec(model).map((p) => p.shape.reduce((a, b) => a * b, 1)));
    }
    expect(() => registry.create('algorithm', 'meta-sgd', { alphaInit: 'big' })).toThrow(/alphaInit/);
    expect(() => registry.create('algorithm', 'cavia', { contextSize: 4, unknown: 1 })).toThrow();
  });

  it('load as a plugin module on their own (the default export)', () => {
    expect(familyDefault).toBe(familyAlgorithms);
    const registry = new PluginRegistry();
    const loaded = loadPluginModule(registry, join(__dirname, '../family.ts'));
    expect(loaded.map((m) => m.name)).toEqual(familyAlgorithms.map((m) => m.name));
    expect(registry.names('algorithm')).toEqual([...familyAlgorithms.map((m) => m.name)].sort());
  });
});
