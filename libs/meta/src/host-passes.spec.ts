import { initBackend, Mlp, mlpConfig } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { classificationHostBatch, sinusoidHostBatch } from './algorithms/common/contract';
import { matchingPlugin } from './algorithms/matching/matching';
import { protoNetsPlugin } from './algorithms/protonets/protonets';
import { snailPlugin } from './algorithms/snail/snail';
import { metaGradientHost } from './host';
import { builtinAlgorithms } from './plugins';
import type { MetaAlgorithm } from './types';

beforeAll(async () => {
  await initBackend('wasm');
});

// The algorithms outside describeAlgorithmContract (which checks the others the same way).
const plugins = [...builtinAlgorithms, protoNetsPlugin, matchingPlugin, snailPlugin] as unknown as PluginManifest<'algorithm', unknown, MetaAlgorithm>[];
const classification = new Mlp(mlpConfig.parse({ inputSize: 2, hidden: [8], outputSize: 3, activation: 'tanh' }));
const regression = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [8], outputSize: 1 }));
const inner = { steps: 2, learningRate: 0.05 };

describe('metaGradientHost in passes of fewer tasks', () => {
  for (const plugin of plugins) {
    it(`${plugin.name}: passes of 1 and 2 of 3 tasks give the whole batch's gradient, meta-loss and support trace`, () => {
      const alg = plugin.create(plugin.configSchema.parse({}));
      const regressionOnly = plugin.name === 'pretrain';
      const model = regressionOnly ? regression : classification;
      const b = regressionOnly ? sinusoidHostBatch(3, 5, 6, 9) : classificationHostBatch(3, 6, 6, 2, 3, 9);
      const params = alg.init(model, 2);
      const whole = metaGradientHost(alg, model, params, b, inner);
      for (const tasksPerPass of [1, 2]) {
        const r = metaGradientHost(alg, model, params, b, inner, undefined, { tasksPerPass });
        r.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - whole.grads[i][j])).toBeLessThan(1e-5 + 1e-4 * Math.abs(whole.grads[i][j]))));
        expect(r.metaLoss).toBeCloseTo(whole.metaLoss, 5);
        expect(r.supportLosses.shape).toEqual(whole.supportLosses.shape);
        Array.from(r.supportLosses.data).forEach((v, k) => expect(v).toBeCloseTo(whole.supportLosses.data[k], 5));
      }
    });
  }
});
