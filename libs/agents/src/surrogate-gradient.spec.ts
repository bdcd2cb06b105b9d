import { Rng } from '@chameleon/core';
import { initBackend, tf, type Tensor } from '@chameleon/nn';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig, importanceSurrogate } from '@chameleon/rl';
import { gaussianMlpSurrogateGradient } from './surrogate-gradient';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Rows acted by a policy near `params`, with behaviour log-probabilities off by up to +-0.5 (ratios != 1). */
function rows(policy: GaussianMlpPolicy, params: Float32Array[], n: number, seed: number) {
  const rng = new Rng(seed);
  const observations = Float32Array.from({ length: n * policy.observationSize }, () => rng.normal());
  const { actions, logProbs } = policy.act(params, observations, n, rng);
  return { observations, actions, old: logProbs.map((l) => l + rng.uniform(-0.5, 0.5)), advantages: Float32Array.from({ length: n }, () => rng.normal()) };
}

/** The surrogate in float64, straight from its definition (for finite differences). */
function surrogate64(policy: GaussianMlpPolicy, p: Float64Array[], r: ReturnType<typeof rows>, n: number): number {
  const sizes = policy.sizes;
  const L = sizes.length - 1;
  const A = sizes[L];
  let total = 0;
  for (let row = 0; row < n; row++) {
    let h = Array.from(r.observations.subarray(row * sizes[0], (row + 1) * sizes[0]));
    for (let l = 0; l < L; l++) {
      const out = Array.from({ length: sizes[l + 1] }, (_, j) => h.reduce((s, x, i) => s + x * p[2 * l][i * sizes[l + 1] + j], p[2 * l + 1][j]));
      h = l < L - 1 ? out.map((v) => (policy.config.activation === 'relu' ? Math.max(0, v) : Math.tanh(v))) : out;
    }
    let lp = 0;
    for (let j = 0; j < A; j++) {
      const z = (r.actions[row * A + j] - h[j]) / Math.exp(p[2 * L][j]);
      lp += -0.5 * z * z - p[2 * L][j] - 0.5 * Math.log(2 * Math.PI);
    }
    total += Math.exp(lp - r.old[row]) * r.advantages[row];
  }
  return total / n;
}

describe('gaussianMlpSurrogateGradient', () => {
  it.each(['tanh', 'relu'] as const)('equals tfjs automatic gradient of the importance surrogate to float32 rounding (%s)', (activation) => {
    const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 5, actionSize: 3, hidden: [8, 6], activation, initStd: 0.7 }));
    const params = policy.init(2);
    const n = 37;
    const r = rows(policy, params, n, 3);
    const grads = gaussianMlpSurrogateGradient(policy, params, r.observations, r.actions, r.old, r.advantages, n);
    const expected = tf.tidy(() => {
      const p = params.map((v, i) => tf.tensor(v, policy.spec[i].shape as number[]));
      const obs = tf.tensor2d(r.observations, [n, 5]);
      const act = tf.tensor2d(r.actions, [n, 3]);
      return tf.valueAndGrads((...q: Tensor[]) => importanceSurrogate(policy.logProb(q, obs, act), tf.tensor1d(r.old), tf.tensor1d(r.advantages)) as tf.Scalar)(p).grads;
    });
    expected.forEach((e, i) => {
      const want = e.dataSync();
      const scale = Math.max(...Array.from(want, Math.abs));
      expect(scale).toBeGreaterThan(1e-3);
      grads[i].forEach((g, j) => expect(Math.abs(g - want[j])).toBeLessThan(1e-5 * scale + 1e-7));
    });
    tf.dispose(expected);
  });

  it.each(['tanh', 'relu'] as const)('matches central finite differences of the float64 surrogate (%s)', (activation) => {
    const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 4, actionSize: 2, hidden: [5], activation, initStd: 0.8 }));
    const params = policy.init(5);
    const n = 21;
    const r = rows(policy, params, n, 6);
    const grads = gaussianMlpSurrogateGradient(policy, params, r.observations, r.actions, r.old, r.advantages, n);
    const p64 = params.map((v) => Float64Array.from(v));
    const eps = 1e-5;
    p64.forEach((t, i) => {
      for (let j = 0; j < t.length; j++) {
        const v = t[j];
        t[j] = v + eps;
        const up = surrogate64(policy, p64, r, n);
        t[j] = v - eps;
        const down = surrogate64(policy, p64, r, n);
        t[j] = v;
        expect(Math.abs(grads[i][j] - (up - down) / (2 * eps))).toBeLessThan(1e-4 * (1 + Math.abs(grads[i][j])));
      }
    });
  });
});
