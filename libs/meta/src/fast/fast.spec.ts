import { initBackend, maxRelError, Mlp, mlpConfig, tf, wasmKernelsActive, type Tensor } from '@chameleon/nn';
import { firstOrderMetaGradient, Maml, secondOrderMetaGradient } from '../algorithms/maml';
import { paramsOf, sinusoidBatch } from '../test-helpers';
import type { MetaBatch, MetaGradientInput, MetaGradientOutput } from '../types';
import { fusedMamlApplies, fusedMamlMetaGradient } from './mlp-maml';

beforeAll(async () => {
  await initBackend('wasm');
});

/**
 * Largest |fused - generic| over a tensor, relative to the tensor's largest |generic|. Both
 * paths compute the same float32 sums in different orders (hundreds of terms, each rounded
 * at ~6e-8 relative): observed differences are below 1e-6. 2e-5 leaves margin, yet is 1000x
 * below what a wrong term does (see the first-order control below).
 */
const TOL = 2e-5;

/** Every output of the two paths, compared; returns the worst gradient difference. */
function expectSame(fused: MetaGradientOutput, generic: MetaGradientOutput): number {
  expect(maxRelError(fused.metaLoss, generic.metaLoss)).toBeLessThan(TOL);
  expect(maxRelError(fused.supportLosses, generic.supportLosses)).toBeLessThan(TOL);
  if (generic.metaAccuracy) expect(maxRelError(fused.metaAccuracy!, generic.metaAccuracy)).toBeLessThan(TOL);
  const worst = Math.max(...fused.grads.map((g, i) => maxRelError(g, generic.grads[i])));
  expect(worst).toBeLessThan(TOL);
  return worst;
}

const inner = { steps: 1, learningRate: 0.01 };

describe.each(['relu', 'tanh'] as const)('fused MAML, %s MLP 1-40-40-1', (activation) => {
  const model = new Mlp(mlpConfig.parse({ activation }));

  it.each([
    [25, 10, 10, 1],
    [25, 10, 10, 2],
    [5, 7, 3, 3],
    [1, 10, 10, 4],
    [1, 1, 1, 5],
  ])('equals the generic path: T=%i K=%i Q=%i (batch seed %i)', (T, K, Q, seed) => {
    tf.tidy(() => {
      const batch = sinusoidBatch(T, K, Q, seed);
      const input: MetaGradientInput = { model, params: paramsOf(model, model.init(seed)), batch, inner, loss: 'mse' };
      expect(fusedMamlApplies(input)).toBe(true);
      const generic = secondOrderMetaGradient(input);
      expectSame(fusedMamlMetaGradient(input), generic);
      expect(generic.supportLosses.shape).toEqual([T, 2]);
      expectSame(fusedMamlMetaGradient(input, true), firstOrderMetaGradient(input));
      // Control: the first-order gradient differs from the second-order one by far more
      // than TOL, so the comparison above can tell a missing Hessian term.
      const fo = new Maml({ firstOrder: true }).metaGradient(input);
      expect(Math.max(...fo.grads.map((g, i) => maxRelError(g, generic.grads[i])))).toBeGreaterThan(100 * TOL);
    });
  });

  it('equals the generic path with a large inner step size (second-order terms dominate)', () => {
    tf.tidy(() => {
      const batch = sinusoidBatch(10, 10, 10, 7);
      const input: MetaGradientInput = { model, params: paramsOf(model, model.init(7)), batch, inner: { steps: 1, learningRate: 0.3 }, loss: 'mse' };
      expectSame(fusedMamlMetaGradient(input), secondOrderMetaGradient(input));
    });
  });
});

describe('fused MAML, other depths', () => {
  it.each([[[]], [[8, 6, 4]]])('equals the generic path for hidden layers %j (tanh, 2 inputs, 3 outputs)', (hidden) => {
    tf.tidy(() => {
      const model = new Mlp(mlpConfig.parse({ inputSize: 2, hidden, outputSize: 3, activation: 'tanh' }));
      const [T, K, Q] = [4, 6, 5];
      const batch: MetaBatch = {
        supportX: tf.randomNormal([T, K, 2], 0, 1, 'float32', 5),
        supportY: tf.randomNormal([T, K, 3], 0, 1, 'float32', 6),
        queryX: tf.randomNormal([T, Q, 2], 0, 1, 'float32', 7),
        queryY: tf.randomNormal([T, Q, 3], 0, 1, 'float32', 8),
      };
      const input: MetaGradientInput = { model, params: paramsOf(model, model.init(9)), batch, inner: { steps: 1, learningRate: 0.2 }, loss: 'mse' };
      expect(fusedMamlApplies(input)).toBe(true);
      expectSame(fusedMamlMetaGradient(input), secondOrderMetaGradient(input));
    });
  });
});

describe('fused MAML, classification', () => {
  it('equals the generic path for cross-entropy, including accuracy', () => {
    tf.tidy(() => {
      const model = new Mlp(mlpConfig.parse({ inputSize: 4, hidden: [16, 8], outputSize: 5, activation: 'relu' }));
      const [T, K, Q] = [6, 5, 7];
      const batch: MetaBatch = {
        supportX: tf.randomNormal([T, K, 4], 0, 1, 'float32', 1),
        supportY: tf.randomUniformInt([T, K], 0, 5, 2),
        queryX: tf.randomNormal([T, Q, 4], 0, 1, 'float32', 3),
        queryY: tf.randomUniformInt([T, Q], 0, 5, 4),
      };
      const input: MetaGradientInput = { model, params: paramsOf(model, model.init(3)), batch, inner: { steps: 1, learningRate: 0.5 }, loss: 'cross-entropy' };
      const fused = fusedMamlMetaGradient(input);
      expect(fused.metaAccuracy).toBeDefined();
      expectSame(fused, secondOrderMetaGradient(input));
      expectSame(fusedMamlMetaGradient(input, true), firstOrderMetaGradient(input));
    });
  });
});

describe('dispatch', () => {
  const model = new Mlp(mlpConfig.parse({}));
  const base = { model, params: [] as Tensor[], batch: {} as MetaBatch, loss: 'mse' as const };

  it('takes the fused path only for one inner step on an MLP', () => {
    expect(fusedMamlApplies({ ...base, params: new Array(6), inner })).toBe(true);
    expect(fusedMamlApplies({ ...base, params: new Array(6), inner: { steps: 2, learningRate: 0.01 } })).toBe(false);
    expect(fusedMamlApplies({ ...base, params: new Array(6), inner: { steps: 0, learningRate: 0.01 } })).toBe(false);
    const other = { ...model, architecture: 'other' } as unknown as Mlp;
    expect(fusedMamlApplies({ ...base, model: other, params: new Array(6), inner })).toBe(false);
  });

  it('Maml uses it by default (same result), and not when told not to', async () => {
    const batch = sinusoidBatch(4, 5, 5, 3);
    const input = { model, params: paramsOf(model, model.init(1)), batch, inner, loss: 'mse' as const };
    const kernelsOf = async (maml: Maml) => (await tf.profile(() => tf.dispose(Object.values(maml.metaGradient(input)).flat() as Tensor[]))).kernelNames;
    expect(await kernelsOf(new Maml())).toContain('ChameleonTaskMatMul');
    expect(await kernelsOf(new Maml({ firstOrder: false }, { fused: false }))).not.toContain('ChameleonTaskMatMul');
    expect(await kernelsOf(new Maml({ firstOrder: true }))).toContain('ChameleonTaskMatMul');
    expect(await kernelsOf(new Maml({ firstOrder: true }, { fused: false }))).not.toContain('ChameleonTaskMatMul');
    tf.tidy(() => expectSame(new Maml().metaGradient(input), new Maml({ firstOrder: false }, { fused: false }).metaGradient(input)));
    tf.dispose([...input.params, ...Object.values(batch)]);
  });
});

describe('fused MAML off wasm (tf.matMul fallbacks, as on tfjs-node)', () => {
  it('equals the generic path on the cpu backend', async () => {
    await tf.setBackend('cpu');
    try {
      expect(wasmKernelsActive()).toBe(false);
      tf.tidy(() => {
        const model = new Mlp(mlpConfig.parse({}));
        const input: MetaGradientInput = { model, params: paramsOf(model, model.init(2)), batch: sinusoidBatch(5, 10, 10, 2), inner, loss: 'mse' };
        expectSame(fusedMamlMetaGradient(input), secondOrderMetaGradient(input));
        expectSame(fusedMamlMetaGradient(input, true), firstOrderMetaGradient(input));
      });
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
