import { isChameleonError } from '@chameleon/core';
import { initBackend, maxRelError, Mlp, mlpConfig, tf } from '@chameleon/nn';
import { classificationHostBatch } from './algorithms/common/contract';
import { MamlPlusPlus, mamlPlusPlusConfig } from './algorithms/maml-plus-plus/maml-plus-plus';
import { metaGradientHost, type HostMetaGradientResult } from './host';
import { Maml } from './algorithms/maml';
import { algorithmPassKey, chooseTasksPerPass, meterPeakBytes, MIB, PassPlanner, type PeakMeter } from './passes';

beforeAll(async () => {
  await initBackend('wasm');
});

const model = new Mlp(mlpConfig.parse({ inputSize: 2, hidden: [8], outputSize: 3, activation: 'tanh' }));
const inner = { steps: 2, learningRate: 0.05 };

/** A meter that runs the pass, counts its calls and reports a fixed peak. */
function fakeMeter(peakBytes: number) {
  const calls: number[] = [];
  const meter: PeakMeter = <R>(run: () => R) => {
    calls.push(peakBytes);
    return { result: run(), peakBytes };
  };
  return { meter, calls };
}

const grads = (r: HostMetaGradientResult) => r.grads.map((g) => tf.tensor1d(g));

function expectSameGradient(r: HostMetaGradientResult, whole: HostMetaGradientResult) {
  const [a, b] = [grads(r), grads(whole)];
  try {
    a.forEach((g, i) => expect(maxRelError(g, b[i])).toBeLessThan(1e-5));
  } finally {
    tf.dispose([...a, ...b]);
  }
  expect(r.metaLoss).toBeCloseTo(whole.metaLoss, 5);
  expect(r.supportLosses.shape).toEqual(whole.supportLosses.shape);
  Array.from(r.supportLosses.data).forEach((v, k) => expect(v).toBeCloseTo(whole.supportLosses.data[k], 5));
}

describe('chooseTasksPerPass', () => {
  it('fits as many whole tasks as the budget holds', () => {
    expect(chooseTasksPerPass(1349 * MIB, 2048 * MIB)).toBe(1);
    expect(chooseTasksPerPass(1349 * MIB, 3072 * MIB)).toBe(2);
    expect(chooseTasksPerPass(100, 1000)).toBe(10);
    expect(chooseTasksPerPass(100, 999)).toBe(9);
    expect(chooseTasksPerPass(1000, 1000)).toBe(1);
    expect(chooseTasksPerPass(3 * MIB, 2048 * MIB)).toBe(682);
    expect(chooseTasksPerPass(0, 1000)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('is RESOURCE_EXHAUSTED, naming the budget and what to change, when one task exceeds the budget', () => {
    let err: unknown;
    try {
      chooseTasksPerPass(1001, 1000);
    } catch (e) {
      err = e;
    }
    expect(isChameleonError(err) && err.code).toBe('RESOURCE_EXHAUSTED');
    expect(() => chooseTasksPerPass(2500 * MIB, 2048 * MIB)).toThrow(/needs about 2500 MiB .* pass budget of 2048 MiB .*--pass-memory-mb.*fewer support or query examples/);
  });
});

describe('metaGradientHost in automatic mode', () => {
  const b = classificationHostBatch(5, 6, 6, 2, 3, 9);

  it('measures one task once per key, passes as many tasks as fit, and gives the whole batch\'s gradient', () => {
    const alg = new Maml();
    const params = alg.init(model, 2);
    const whole = metaGradientHost(alg, model, params, b, inner, undefined, { tasksPerPass: 5 });
    // Per-task peak 100 bytes (task 0 measured alone first, once): budget 250 -> passes of
    // 2 + 2 + 1 tasks; budget 10,000 -> the whole batch in one pass.
    for (const budgetBytes of [250, 100, 10_000]) {
      const { meter, calls } = fakeMeter(100);
      const planner = new PassPlanner({ budgetBytes, meter });
      for (let call = 0; call < 3; call++) expectSameGradient(metaGradientHost(alg, model, params, b, inner, undefined, { planner }), whole);
      expect(calls).toHaveLength(1);
    }
  });

  it('measures again for another task shape, inner steps or algorithm config, not for another MAML++ iteration of the same order', () => {
    const { meter, calls } = fakeMeter(100);
    const planner = new PassPlanner({ budgetBytes: 1000, meter });
    const alg = new Maml();
    const params = alg.init(model, 2);
    metaGradientHost(alg, model, params, b, inner, undefined, { planner });
    metaGradientHost(alg, model, params, classificationHostBatch(3, 6, 6, 2, 3, 9), inner, undefined, { planner }); // 3 tasks: same key
    expect(calls).toHaveLength(1);
    metaGradientHost(alg, model, params, classificationHostBatch(5, 4, 6, 2, 3, 9), inner, undefined, { planner }); // 4 support examples
    metaGradientHost(alg, model, params, b, { steps: 1, learningRate: 0.05 }, undefined, { planner });
    metaGradientHost(new Maml({ firstOrder: true }), model, params, b, inner, undefined, { planner });
    expect(calls).toHaveLength(4);

    const pp = (iteration: number) => new MamlPlusPlus(mamlPlusPlusConfig.parse({ steps: 2, firstOrderUntil: 10, iteration }));
    expect(algorithmPassKey(pp(0))).toBe(algorithmPassKey(pp(9)));
    expect(algorithmPassKey(pp(10))).toBe(algorithmPassKey(pp(11)));
    expect(algorithmPassKey(pp(9))).not.toBe(algorithmPassKey(pp(10)));
  });

  it('gives bit-identical numbers whether or not the key was measured before (the passes depend on the key only)', () => {
    const alg = new Maml();
    const params = alg.init(model, 2);
    for (const budgetBytes of [250, 10_000]) {
      const planner = new PassPlanner({ budgetBytes, meter: fakeMeter(100).meter });
      const measured = metaGradientHost(alg, model, params, b, inner, undefined, { planner });
      const cached = metaGradientHost(alg, model, params, b, inner, undefined, { planner });
      measured.grads.forEach((g, i) => expect(Array.from(cached.grads[i])).toEqual(Array.from(g)));
      expect(cached.metaLoss).toBe(measured.metaLoss);
    }
  });

  it('keys a plugin without a config by its name and data fields, not by the instance the learner built for one call', () => {
    const plugin = (tag: string) => ({ name: 'probe', usesIteration: true, tag, paramSpec: () => [], metaGradient: () => undefined }) as unknown as Parameters<typeof algorithmPassKey>[0];
    expect(algorithmPassKey(plugin('a'))).toBe(algorithmPassKey(plugin('a')));
    expect(algorithmPassKey(plugin('a'))).not.toBe(algorithmPassKey(plugin('b')));
  });

  it('answers RESOURCE_EXHAUSTED on every call when one task exceeds the budget', () => {
    const { meter, calls } = fakeMeter(5000);
    const planner = new PassPlanner({ budgetBytes: 1000, meter });
    const alg = new Maml();
    const params = alg.init(model, 2);
    for (let call = 0; call < 2; call++) expect(() => metaGradientHost(alg, model, params, b, inner, undefined, { planner })).toThrow(/RESOURCE_EXHAUSTED|pass budget/);
    expect(calls).toHaveLength(1);
  });

  it('with the real meter: the peak of one task is positive, the same on a second measurement, and a budget of 2.5 of them gives passes of 2', () => {
    const alg = new Maml();
    const params = alg.init(model, 2);
    const one = classificationHostBatch(1, 6, 6, 2, 3, 9);
    const peaks = [0, 1].map(() => meterPeakBytes(() => metaGradientHost(alg, model, params, one, inner, undefined, { tasksPerPass: 1 })).peakBytes);
    expect(peaks[0]).toBeGreaterThan(0);
    expect(peaks[1]).toBe(peaks[0]);
    expect(chooseTasksPerPass(peaks[0], 2.5 * peaks[0])).toBe(2);
    const whole = metaGradientHost(alg, model, params, b, inner, undefined, { tasksPerPass: 5 });
    const planner = new PassPlanner({ budgetBytes: 2.5 * peaks[0] });
    expectSameGradient(metaGradientHost(alg, model, params, b, inner, undefined, { planner }), whole);
    expect(planner.known(model, planner.key(alg, b, inner, 'cross-entropy'))).toBe(peaks[0]);
    expectSameGradient(metaGradientHost(alg, model, params, b, inner, undefined, { planner }), whole);
    // The meter leaves the engine's profiling as it found it.
    expect((tf.engine() as unknown as { state: { profiling: boolean } }).state.profiling).toBe(false);
  });
});
