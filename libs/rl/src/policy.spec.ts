import { Rng } from '@chameleon/core';
import { initBackend, tf, type Tensor } from '@chameleon/nn';
import { manifestProblems } from '@chameleon/plugins';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig, gaussianMlpPolicyPlugin } from './policy';
import { expN, tanhN } from './smooth';

beforeAll(async () => {
  await initBackend('wasm');
});

const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 3, actionSize: 2, hidden: [5, 4] }));
const rand = (n: number, seed: number, scale = 1) => {
  const r = new Rng(seed);
  return new Float32Array(n).map(() => scale * r.normal());
};
/** Parameters with a non-trivial log-std. */
const params = () => {
  const p = policy.init(1);
  p[p.length - 1].set([0.3, -0.5]);
  return p;
};
const tensors = (p: Float32Array[]) => p.map((v, i) => tf.tensor(v, policy.spec[i].shape as number[]));
const LOG_2PI = Math.log(2 * Math.PI);

describe('GaussianMlpPolicy', () => {
  it('has MAML-RL defaults: 100-100 tanh mean, log-std initialised to log(1) = 0, deterministic init', () => {
    const p = new GaussianMlpPolicy();
    expect(p.spec.map((s) => s.shape)).toEqual([[2, 100], [100], [100, 100], [100], [100, 2], [2], [2]]);
    const a = p.init(7);
    expect(Array.from(a[a.length - 1])).toEqual([0, 0]);
    expect(p.init(7)).toEqual(a);
    expect(p.init(8)[0]).not.toEqual(a[0]);
  });

  it('outputInitScale scales only the output layer\'s initial weights, so the initial mean actions shrink by the same factor', () => {
    const cfg = { observationSize: 3, actionSize: 2, hidden: [16, 16] };
    const plain = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse(cfg));
    const small = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ ...cfg, outputInitScale: 0.01 }));
    const [a, b] = [plain.init(3), small.init(3)];
    for (const k of [0, 1, 2, 3, 5, 6]) expect(b[k]).toEqual(a[k]);
    b[4].forEach((v, i) => expect(Math.abs(v - 0.01 * a[4][i])).toBeLessThanOrEqual(1e-7 * Math.abs(a[4][i])));
    const obs = Float32Array.of(0.3, -1.2, 2.0);
    const mean = (p: GaussianMlpPolicy, params: Float32Array[]) => p.act(params, obs, 1, Rng.fromKeys('t', 1), true).actions;
    const [ma, mb] = [mean(plain, a), mean(small, b)];
    for (let j = 0; j < 2; j++) expect(mb[j]).toBeCloseTo(0.01 * ma[j], 6);
    expect(Math.abs(ma[0]) + Math.abs(ma[1])).toBeGreaterThan(0.05);
    expect(() => gaussianMlpPolicyConfig.parse({ ...cfg, outputInitScale: 0 })).toThrow();
  });

  it('log-probability, KL and entropy match the closed forms of diagonal Gaussians', () => {
    tf.tidy(() => {
      const th = tensors(params());
      const obs = tf.tensor2d(rand(4 * 3, 2), [4, 3]);
      const actions = tf.tensor2d(rand(4 * 2, 3), [4, 2]);
      const d = policy.distribution(th, obs);
      const mean = d.mean.arraySync() as number[][];
      const ls = [0.3, -0.5];
      const acts = actions.arraySync() as number[][];
      const lp = policy.logProb(th, obs, actions).dataSync();
      acts.forEach((a, n) => {
        const want = a.reduce((s, ai, j) => s - 0.5 * ((ai - mean[n][j]) / Math.exp(ls[j])) ** 2 - ls[j] - 0.5 * LOG_2PI, 0);
        expect(lp[n]).toBeCloseTo(want, 4);
      });
      expect(policy.kl(th, th, obs).dataSync()[0]).toBeCloseTo(0, 6);
      // KL to a policy with shifted log-std and mean: per dimension log(s2/s1) + (s1^2 + dm^2) / (2 s2^2) - 1/2.
      const other = th.map((t, i) => (i === th.length - 1 ? tf.add(t, 0.2) : i === th.length - 2 ? tf.add(t, 0.1) : t));
      const klWant = [0, 1].reduce((s, j) => s + 0.2 + (Math.exp(2 * ls[j]) + 0.01) / (2 * Math.exp(2 * (ls[j] + 0.2))) - 0.5, 0);
      expect(policy.kl(th, other, obs).dataSync()[0]).toBeCloseTo(klWant, 5);
      expect(policy.entropy(th, obs).dataSync()[0]).toBeCloseTo(0.3 - 0.5 + (1 + LOG_2PI), 5);
    });
  });

  it('per-task variants equal the shared ones task by task', () => {
    tf.tidy(() => {
      const sets = [params(), policy.init(5)];
      const obs = tf.tensor3d(rand(2 * 6 * 3, 4), [2, 6, 3]);
      const actions = tf.tensor3d(rand(2 * 6 * 2, 5), [2, 6, 2]);
      const mask = tf.tensor2d([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1], [2, 6]);
      const stacked = policy.spec.map((_, i) => tf.stack(sets.map((s) => tensors(s)[i])));
      const lp = policy.logProbPerTask(stacked, obs, actions).arraySync() as number[][];
      const kl = policy.klPerTask(stacked, stacked.map((p) => tf.mul(p, 0.9)), obs, mask).dataSync();
      sets.forEach((s, t) => {
        const th = tensors(s);
        const o = tf.gather(obs, t);
        const want = policy.logProb(th, o, tf.gather(actions, t)).dataSync();
        want.forEach((w, n) => expect(lp[t][n]).toBeCloseTo(w, 4));
        const m = tf.gather(mask, t);
        expect(kl[t]).toBeCloseTo(policy.kl(th, th.map((p) => tf.mul(p, 0.9)), o, m).dataSync()[0], 5);
      });
    });
  });

  it('host act equals the tfjs distribution: the mean when deterministic, matching log-probabilities when sampling', () => {
    const p = params();
    const n = 20;
    const obs = rand(n * 3, 6);
    const det = policy.act(p, obs, n, new Rng(1), true);
    const sto = policy.act(p, obs, n, new Rng(1));
    tf.tidy(() => {
      const th = tensors(p);
      const o = tf.tensor2d(obs, [n, 3]);
      const mean = policy.distribution(th, o).mean.dataSync();
      det.actions.forEach((a, i) => expect(a).toBeCloseTo(mean[i], 5));
      const lp = policy.logProb(th, o, tf.tensor2d(sto.actions, [n, 2])).dataSync();
      sto.logProbs.forEach((l, i) => expect(l).toBeCloseTo(lp[i], 4));
      const detLp = policy.logProb(th, o, tf.tensor2d(det.actions, [n, 2])).dataSync();
      det.logProbs.forEach((l, i) => expect(l).toBeCloseTo(detLp[i], 4));
    });
    expect(sto.actions).not.toEqual(det.actions);
    expect(policy.act(p, obs, n, new Rng(1))).toEqual(sto); // seeded
  });

  it('actRows uses each row\'s own parameters', () => {
    const sets = [params(), policy.init(9)];
    const obs = rand(4 * 3, 7);
    const rows = [1, 0, 0, 1];
    const out = policy.actRows(sets, rows, obs, 4, new Rng(1), true);
    rows.forEach((s, r) => {
      const one = policy.act(sets[s], obs.subarray(r * 3, r * 3 + 3), 1, new Rng(1), true);
      expect(Array.from(out.actions.subarray(2 * r, 2 * r + 2))).toEqual(Array.from(one.actions));
    });
  });

  it('actWithNoise acting on many rows equals act row by row with each row\'s own stream, bit for bit', () => {
    // Widths 7 and 6 exercise the 4 x 4 register tiles and their remainders; 11 rows, a partial block.
    const wide = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 3, actionSize: 2, hidden: [7, 6], initStd: 0.7 }));
    const p = wide.init(4);
    const n = 11;
    const obs = rand(n * 3, 12);
    const rngs = () => Array.from({ length: n }, (_, r) => new Rng(100 + r));
    const one = rngs().map((rng, r) => wide.act(p, obs.subarray(r * 3, (r + 1) * 3), 1, rng));
    const streams = rngs();
    const noise = new Float64Array(n * 2).map((_, i) => streams[Math.floor(i / 2)].normal());
    const all = wide.actWithNoise(p, obs, n, noise);
    expect(all.actions).toEqual(Float32Array.from(one.flatMap((o) => Array.from(o.actions))));
    expect(all.logProbs).toEqual(Float32Array.from(one.map((o) => o.logProbs[0])));
    // Zero noise is the mean (deterministic act).
    expect(wide.actWithNoise(p, obs, n, new Float64Array(n * 2))).toEqual(wide.act(p, obs, n, new Rng(1), true));
    expect(() => wide.actWithNoise(p, obs, n, new Float64Array(3))).toThrow(/^noise:/);
  });

  it('relu variant works and host act matches it', () => {
    const relu = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 3, actionSize: 2, hidden: [6], activation: 'relu' }));
    const p = relu.init(2);
    const obs = rand(5 * 3, 8);
    const det = relu.act(p, obs, 5, new Rng(1), true);
    tf.tidy(() => {
      const mean = relu.distribution(p.map((v, i) => tf.tensor(v, relu.spec[i].shape as number[])), tf.tensor2d(obs, [5, 3])).mean.dataSync();
      det.actions.forEach((a, i) => expect(a).toBeCloseTo(mean[i], 5));
    });
  });

  it('rejects wrong parameter and observation sizes naming the field', () => {
    const p = params();
    expect(() => policy.act(p.slice(1), new Float32Array(3), 1, new Rng(1))).toThrow(/^params:/);
    expect(() => policy.act(p, new Float32Array(4), 1, new Rng(1))).toThrow(/^observations:/);
    expect(() => gaussianMlpPolicyConfig.parse({ hidden: [0] })).toThrow();
  });

  it('ships a valid plugin manifest (kind "model", name "gaussian-mlp")', () => {
    expect(manifestProblems(gaussianMlpPolicyPlugin)).toEqual([]);
    const created = gaussianMlpPolicyPlugin.create(gaussianMlpPolicyPlugin.configSchema.parse({ observationSize: 4 }));
    expect(created.observationSize).toBe(4);
    expect(created.name).toBe('gaussian-mlp');
  });
});

describe('smooth activations', () => {
  it('tanhN and expN have exact derivatives to third order (tanh2/exp2 stop at second)', () => {
    const x = 0.3;
    const t = Math.tanh(x);
    const derivs = (f: (x: Tensor) => Tensor) => {
      const d1 = (y: Tensor) => tf.grad((z: Tensor) => f(z))(y);
      const d2 = (y: Tensor) => tf.grad((z: Tensor) => d1(z))(y);
      const d3 = (y: Tensor) => tf.grad((z: Tensor) => d2(z))(y);
      return tf.tidy(() => [d1, d2, d3].map((d) => d(tf.scalar(x)).dataSync()[0]));
    };
    const [a1, a2, a3] = derivs(tanhN);
    expect(a1).toBeCloseTo(1 - t * t, 6);
    expect(a2).toBeCloseTo(-2 * t * (1 - t * t), 6);
    expect(a3).toBeCloseTo((6 * t * t - 2) * (1 - t * t), 5);
    derivs(expN).forEach((d) => expect(d).toBeCloseTo(Math.exp(x), 5));
  });
});
