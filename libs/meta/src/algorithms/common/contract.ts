/**
 * The contract every algorithm of the MAML family meets through the host entry points the
 * learner serves (metaGradientHost / adaptHost): regression and classification with the
 * generic MLP, gradients for every meta-parameter of `paramSpec`, adapted parameters in
 * the model's own layout, and no tensor left behind. Test-only: call it from a spec file.
 */
import { float32, int32, Rng } from '@chameleon/core';
import { SinusoidSource, type SupervisedBatch } from '@chameleon/envs';
import { Mlp, mlpConfig, tf, type ParamSpec, type Tensor } from '@chameleon/nn';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { adaptHost, metaGradientHost } from '../../host';
import type { InnerLoopConfig, MetaAlgorithm } from '../../types';

/** A sinusoid task batch on host arrays. */
export function sinusoidHostBatch(tasks: number, support: number, query: number, seed = 1): SupervisedBatch {
  const ts = sampleTasks(new SinusoidFamily(), { split: 'train', seed, start: seed * tasks, count: tasks });
  return new SinusoidSource().sample(ts, { supportSize: support, querySize: query, seed });
}

/** A random classification batch: inputs [T, N, features] in [-1, 1], int32 labels in [0, classes). */
export function classificationHostBatch(tasks: number, support: number, query: number, features: number, classes: number, seed = 1): SupervisedBatch {
  const rng = Rng.fromKeys('classification-batch', seed);
  const xs = (n: number) => float32([tasks, n, features], Array.from({ length: tasks * n * features }, () => rng.uniform(-1, 1)));
  const ys = (n: number) => int32([tasks, n], Array.from({ length: tasks * n }, () => rng.int(classes)));
  return { supportX: xs(support), supportY: ys(support), queryX: xs(query), queryY: ys(query) };
}

/** A random direction over a parameter list with unit global norm (seeded). */
export function directionOver(spec: readonly ParamSpec[], seed: number): Tensor[] {
  const parts = spec.map((p, i) => tf.randomNormal(p.shape as number[], 0, 1, 'float32', seed * 100 + i));
  const norm = Math.sqrt(parts.reduce((s, p) => s + tf.sum(tf.square(p)).dataSync()[0], 0));
  return parts.map((p) => tf.div(p, norm));
}

/**
 * Central finite differences of `objective` at `params` along `directions` random unit
 * directions, next to the analytic directional derivatives of `grads`.
 */
export function finiteDifferences(
  spec: readonly ParamSpec[],
  params: readonly Tensor[],
  grads: readonly Tensor[],
  objective: (params: Tensor[]) => number,
  { directions = 5, eps = 1e-2, seed = 1 } = {},
): Array<{ analytic: number; fd: number }> {
  const out: Array<{ analytic: number; fd: number }> = [];
  for (let d = 0; d < directions; d++) {
    const v = directionOver(spec, seed + d);
    const plus = objective(params.map((t, i) => tf.add(t, tf.mul(eps, v[i]))));
    const minus = objective(params.map((t, i) => tf.sub(t, tf.mul(eps, v[i]))));
    const analytic = grads.reduce((s, g, i) => s + tf.sum(tf.mul(g, v[i])).dataSync()[0], 0);
    out.push({ analytic, fd: (plus - minus) / (2 * eps) });
  }
  return out;
}

/**
 * float32 objectives are O(1) with ~1e-7 relative rounding; with eps = 1e-2 the rounding
 * error of a central difference is ~1e-5 and its O(eps^2) truncation error ~1e-5 on smooth
 * (tanh) networks, so 2e-3 absolute plus 1% relative separates right from wrong gradients
 * by orders of magnitude (the same bound as the MAML test).
 */
export const FD_TOLERANCE = { absolute: 2e-3, relative: 0.01 };
export const withinFd = ({ analytic, fd }: { analytic: number; fd: number }): boolean =>
  Math.abs(analytic - fd) < FD_TOLERANCE.absolute + FD_TOLERANCE.relative * Math.abs(fd);

const regression = new Mlp(mlpConfig.parse({ inputSize: 1, hidden: [16, 16], outputSize: 1 }));
const classification = new Mlp(mlpConfig.parse({ inputSize: 2, hidden: [8], outputSize: 3, activation: 'tanh' }));

const sizeOf = (p: ParamSpec) => p.shape.reduce((a, b) => a * b, 1);

/** Runs the host contract against an algorithm (built fresh for each test by `make`). */
export function describeAlgorithmContract(
  label: string,
  make: () => MetaAlgorithm,
  inner: InnerLoopConfig = { steps: 2, learningRate: 0.01 },
  /** stochastic: every call draws new noise (MR-MAML), so passes are compared in shape only. */
  options: { stochastic?: boolean } = {},
): void {
  describe(`${label}: contract through metaGradientHost / adaptHost`, () => {
    it('regression: one finite gradient per meta-parameter of paramSpec, a [T, steps + 1] support trace', () => {
      const alg = make();
      const spec = alg.paramSpec(regression);
      const r = metaGradientHost(alg, regression, alg.init(regression, 3), sinusoidHostBatch(4, 5, 6), inner);
      expect(r.grads.map((g) => g.length)).toEqual(spec.map(sizeOf));
      for (const g of r.grads) expect(g.every(Number.isFinite)).toBe(true);
      expect(r.grads.some((g) => g.some((v) => v !== 0))).toBe(true);
      expect(r.supportLosses.shape).toEqual([4, inner.steps + 1]);
      expect(Number.isFinite(r.metaLoss)).toBe(true);
    });

    it('in passes of fewer tasks (tasksPerPass 1 and 2 of 3) gives the whole batch\'s gradient, meta-loss, accuracy and support trace', () => {
      // Every meta-objective here is a mean over tasks (plus task-independent terms), so passes
      // weighted by their tasks add up to the whole batch.
      const alg = make();
      const params = alg.init(classification, 7);
      const b = classificationHostBatch(3, 6, 6, 2, 3, 8);
      const whole = metaGradientHost(alg, classification, params, b, inner);
      for (const tasksPerPass of [1, 2]) {
        const r = metaGradientHost(alg, classification, params, b, inner, undefined, { tasksPerPass });
        if (options.stochastic) {
          expect(r.grads.map((g) => g.length)).toEqual(whole.grads.map((g) => g.length));
          expect(r.grads.every((g) => g.every(Number.isFinite)) && Number.isFinite(r.metaLoss)).toBe(true);
          expect(r.supportLosses.shape).toEqual(whole.supportLosses.shape);
          continue;
        }
        r.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - whole.grads[i][j])).toBeLessThan(1e-5 + 1e-4 * Math.abs(whole.grads[i][j]))));
        expect(r.metaLoss).toBeCloseTo(whole.metaLoss, 5);
        expect(r.metaAccuracy ?? -1).toBeCloseTo(whole.metaAccuracy ?? -1, 5);
        expect(r.supportLosses.shape).toEqual(whole.supportLosses.shape);
        Array.from(r.supportLosses.data).forEach((v, k) => expect(v).toBeCloseTo(whole.supportLosses.data[k], 5));
      }
      expect(() => metaGradientHost(alg, classification, params, b, inner, undefined, { tasksPerPass: -1 })).toThrow(/tasks_per_pass/);
    });

    it('classification (cross-entropy): finite gradients and a meta-accuracy in [0, 1]', () => {
      const alg = make();
      const params = alg.init(classification, 4);
      const b = classificationHostBatch(3, 6, 6, 2, 3);
      const r = metaGradientHost(alg, classification, params, b, inner);
      for (const g of r.grads) expect(g.every(Number.isFinite)).toBe(true);
      expect(r.metaAccuracy).toBeGreaterThanOrEqual(0);
      expect(r.metaAccuracy).toBeLessThanOrEqual(1);
      const a = adaptHost(alg, classification, params, { x: b.supportX, y: b.supportY }, inner, { query: { x: b.queryX, y: b.queryY } });
      expect(a.queryAccuracies!.shape).toEqual([3, inner.steps + 1]);
    });

    it("adaptHost returns phi in the model's own layout [T, ...shape] and per-step query losses", () => {
      const alg = make();
      const b = sinusoidHostBatch(3, 5, 7, 2);
      const a = adaptHost(alg, regression, alg.init(regression, 5), { x: b.supportX, y: b.supportY }, inner, { query: { x: b.queryX, y: b.queryY }, returnParams: true });
      expect(a.phi!.map((p) => p.length)).toEqual(regression.spec.map((p) => 3 * sizeOf(p)));
      expect(a.supportLosses.shape).toEqual([3, inner.steps + 1]);
      expect(a.queryLosses!.shape).toEqual([3, inner.steps + 1]);
      expect(Array.from(a.queryLosses!.data as Float32Array).every(Number.isFinite)).toBe(true);
    });

    it('leaves no tensor behind: numTensors is flat over repeated calls', () => {
      const alg = make();
      const params = alg.init(regression, 6);
      const call = (i: number) => {
        const b = sinusoidHostBatch(3, 5, 5, 10 + i);
        metaGradientHost(alg, regression, params, b, inner);
        adaptHost(alg, regression, params, { x: b.supportX, y: b.supportY }, inner, { query: { x: b.queryX, y: b.queryY }, predictX: b.queryX, returnParams: true });
      };
      for (let i = 0; i < 3; i++) call(i); // warm-up: backends allocate lazily
      const before = tf.memory().numTensors;
      for (let i = 3; i < 15; i++) call(i);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
