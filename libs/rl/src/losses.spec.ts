import { Rng } from '@chameleon/core';
import { initBackend, tf, type Tensor } from '@chameleon/nn';
import { clipFraction, importanceSurrogate, ppoSurrogate, reinforceLoss } from './losses';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig } from './policy';

beforeAll(async () => {
  await initBackend('wasm');
});

const rng = new Rng(5);
const normals = (n: number) => Array.from({ length: n }, () => rng.normal());
const eps = 0.2;

describe('PPO clipped surrogate', () => {
  it('equals the importance-weighted surrogate when every ratio lies in [1 - eps, 1 + eps]', () => {
    tf.tidy(() => {
      const old = tf.tensor2d(normals(40), [2, 20]);
      const r = Array.from({ length: 40 }, () => rng.uniform(1 - eps, 1 + eps));
      const logp = tf.add(old, tf.log(tf.tensor2d(r, [2, 20])));
      const adv = tf.tensor2d(normals(40), [2, 20]);
      const mask = tf.tensor2d(Array.from({ length: 40 }, (_, i) => (i % 7 === 6 ? 0 : 1)), [2, 20]);
      const ppo = ppoSurrogate(logp, old, adv, mask, eps).dataSync();
      const is = importanceSurrogate(logp, old, adv, mask).dataSync();
      ppo.forEach((v, i) => expect(v).toBeCloseTo(is[i], 6));
      expect(clipFraction(logp, old, mask, eps).dataSync()[0]).toBe(0);
    });
  });

  it('gives zero gradient to samples clipped in the direction of improvement, the unclipped gradient to the rest', () => {
    tf.tidy(() => {
      // ratio, advantage: improved past the clip (0, 1), in range (2, 3), clipped the wrong way (4, 5).
      const ratios = [1.5, 0.5, 1.1, 0.9, 0.5, 1.5];
      const adv = tf.tensor1d([1, -1, 2, -2, 1, -1]);
      const old = tf.tensor1d(normals(6));
      const mask = tf.ones([6]);
      const logp = tf.add(old, tf.log(tf.tensor1d(ratios)));
      const g = tf.grad((lp: Tensor) => ppoSurrogate(lp, old, adv, mask, eps))(logp).dataSync();
      const unclipped = tf.grad((lp: Tensor) => importanceSurrogate(lp, old, adv, mask))(logp).dataSync();
      expect(g[0]).toBe(0);
      expect(g[1]).toBe(0);
      for (const i of [2, 3, 4, 5]) {
        expect(g[i]).not.toBe(0);
        expect(g[i]).toBeCloseTo(unclipped[i], 6);
      }
    });
  });
});

describe('importance-weighted surrogate', () => {
  it('has the REINFORCE gradient at pi = pi_old (with respect to the policy parameters)', () => {
    tf.tidy(() => {
      const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 2, actionSize: 2, hidden: [6] }));
      const theta = policy.init(1).map((v, i) => tf.tensor(v, policy.spec[i].shape as number[]));
      const obs = tf.tensor2d(normals(30), [15, 2]);
      const actions = tf.tensor2d(normals(30), [15, 2]);
      const adv = tf.tensor1d(normals(15));
      const mask = tf.tensor1d(Array.from({ length: 15 }, (_, i) => (i < 12 ? 1 : 0)));
      const old = policy.logProb(theta, obs, actions);
      const gs = tf.grads((...p: Tensor[]) => importanceSurrogate(policy.logProb(p, obs, actions), old, adv, mask))(theta);
      const gr = tf.grads((...p: Tensor[]) => reinforceLoss(policy.logProb(p, obs, actions), adv, mask))(theta);
      gs.forEach((g, k) => {
        const want = tf.neg(gr[k]).dataSync();
        g.dataSync().forEach((v, j) => expect(v).toBeCloseTo(want[j], 5));
      });
    });
  });

  it('REINFORCE is minus the masked mean of log pi times A, per task on [T, N]', () => {
    tf.tidy(() => {
      const lp = tf.tensor2d([1, 2, 3, 4], [2, 2]);
      const adv = tf.tensor2d([1, 1, 2, 0.5], [2, 2]);
      const mask = tf.tensor2d([1, 0, 1, 1], [2, 2]);
      expect(Array.from(reinforceLoss(lp, adv, mask).dataSync())).toEqual([-1, -(6 + 2) / 2]);
    });
  });
});
