import { Rng } from '@chameleon/core';
import { initBackend, tf } from '@chameleon/nn';
import { GruPolicy, gruPolicyConfig } from './gru-policy';
import { rl2PpoConfig, rl2PpoStep, trialInputs, type Rl2Episode } from './ppo-sequences';

beforeAll(async () => {
  await initBackend('wasm');
});

const policy = new GruPolicy(gruPolicyConfig.parse({ observationSize: 3, actionSize: 2, hidden: 8 }));
const params = policy.init(1);

/** A trial of `episodes` episodes acted by the host GRU (state kept across episodes); reward = sign * a0. */
function trial(seed: number, episodes: number, length: number, sign: number): Rl2Episode[] {
  const rng = new Rng(seed);
  let h = policy.initialState();
  let prev = { a: new Float32Array(2) as Float32Array, r: 0, d: 0 };
  return Array.from({ length: episodes }, () => {
    const [obs, act, logp, rew] = [new Float32Array(length * 3), new Float32Array(length * 2), new Float32Array(length), new Float32Array(length)];
    for (let t = 0; t < length; t++) {
      const o = new Float32Array(3).map(() => rng.normal());
      const s = policy.step(params, h, { observation: o, previousAction: prev.a, previousReward: prev.r, previousDone: prev.d }, rng);
      h = s.state;
      obs.set(o, t * 3);
      act.set(s.action, t * 2);
      logp[t] = s.logProb;
      rew[t] = sign * Math.max(-1, Math.min(1, s.action[0]));
      prev = { a: s.action, r: rew[t], d: t === length - 1 ? 1 : 0 };
    }
    const discounts = new Float32Array(length).fill(1);
    discounts[length - 1] = 0;
    return { length, observations: obs, actions: act, logProbs: logp, rewards: rew, discounts };
  });
}

describe('RL^2 (GRU policy, PPO over sequences of episodes)', () => {
  it('the tfjs unroll over a whole trial gives the log-probabilities the host GRU acted with', () => {
    const tr = trial(2, 3, 5, 1);
    const T = 15;
    const lp = tf.tidy(() =>
      policy.logProbSequences(
        params.map((p, i) => tf.tensor(p, policy.spec[i].shape as number[])),
        tf.tensor3d(trialInputs(policy, tr), [1, T, policy.inputSize]),
        tf.tensor3d(Float32Array.from(tr.flatMap((e) => [...e.actions])), [1, T, 2]),
      ),
    );
    const got = lp.dataSync();
    lp.dispose();
    tr.flatMap((e) => [...e.logProbs]).forEach((v, t) => expect(got[t]).toBeCloseTo(v, 3));
  });

  it('carries the state across episodes: the same observation after different rewards gives different actions', () => {
    const o = Float32Array.of(0.1, 0.2, 0.3);
    const h0 = policy.step(params, policy.initialState(), { observation: o, previousAction: new Float32Array(2), previousReward: 0, previousDone: 0 }, new Rng(1), true).state;
    const after = (r: number) => policy.step(params, h0, { observation: o, previousAction: Float32Array.of(0.5, -0.5), previousReward: r, previousDone: 1 }, new Rng(1), true).action;
    expect(Math.abs(after(1)[0] - after(-1)[0])).toBeGreaterThan(1e-4);
  });

  it('a PPO step over trials raises the clipped surrogate and keeps the parameters finite', () => {
    const trials = [trial(3, 2, 6, 1), trial(4, 2, 6, -1), trial(5, 3, 4, 1)];
    const r = rl2PpoStep(policy, params, trials, rl2PpoConfig.parse({ epochs: 5 }));
    expect(r.diagnostics.steps).toBe(12 + 12 + 12);
    expect(r.diagnostics.surrogateAfter).toBeGreaterThan(r.diagnostics.surrogateBefore);
    expect(r.params.every((p) => p.every(Number.isFinite))).toBe(true);
  });
});
