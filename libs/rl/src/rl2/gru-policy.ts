import { z } from 'zod';
import { Rng } from '@chameleon/core';
import { tf, type ParamSpec, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';

export const gruPolicyConfig = z
  .object({
    observationSize: z.number().int().min(1).max(100_000).default(2),
    actionSize: z.number().int().min(1).max(10_000).default(2),
    /** GRU state size. Default 64. */
    hidden: z.number().int().min(1).max(4096).default(64),
    /** Initial standard deviation of the actions. Default 0.5. */
    initStd: z.number().positive().default(0.5),
  })
  .strict();
export type GruPolicyConfig = z.infer<typeof gruPolicyConfig>;

/** One step of what an RL^2 policy sees: the observation, and the previous action, reward and episode end. */
export interface Rl2Input {
  readonly observation: Float32Array;
  readonly previousAction: Float32Array;
  readonly previousReward: number;
  /** 1 when the previous step ended an episode (the trial goes on), else 0. */
  readonly previousDone: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * The recurrent policy of RL^2 (Duan et al. 2016; Wang et al. 2016): a GRU over
 * x_t = [o_t, a_{t-1}, r_{t-1}, d_{t-1}] whose state is kept across the episodes of a trial,
 * a linear Gaussian head on h_t and a learned state-independent log-std. Parameters: `gru/w`
 * [I, 3H] (update, reset, candidate), `gru/u` [H, 3H], `gru/b` [3H], `head/w` [H, A], `head/b` [A],
 * `log_std` [A], with I = obs + act + 2. `step` runs on the host (acting); `logProbSequences`
 * unrolls in tfjs (training).
 *
 * @example
 *   const p = new GruPolicy(gruPolicyConfig.parse({ observationSize: 98, actionSize: 8 }));
 *   let h = p.initialState();
 *   const r = p.step(params, h, input, rng); h = r.state;
 */
export class GruPolicy {
  readonly name = 'rl2-gru';
  readonly spec: ParamSpec[];
  readonly inputSize: number;

  constructor(readonly config: GruPolicyConfig = gruPolicyConfig.parse({})) {
    const { observationSize: O, actionSize: A, hidden: H } = config;
    this.inputSize = O + A + 2;
    this.spec = [
      { name: 'gru/w', shape: [this.inputSize, 3 * H] },
      { name: 'gru/u', shape: [H, 3 * H] },
      { name: 'gru/b', shape: [3 * H] },
      { name: 'head/w', shape: [H, A] },
      { name: 'head/b', shape: [A] },
      { name: 'log_std', shape: [A] },
    ];
  }

  get observationSize(): number {
    return this.config.observationSize;
  }
  get actionSize(): number {
    return this.config.actionSize;
  }

  init(seed: number): Float32Array[] {
    const rng = Rng.fromKeys('rl2-init', seed);
    const { hidden: H, actionSize: A } = this.config;
    const glorot = (n: number, fanIn: number, fanOut: number, scale = 1) => new Float32Array(n).map(() => scale * rng.normal() * Math.sqrt(2 / (fanIn + fanOut)));
    return [
      glorot(this.inputSize * 3 * H, this.inputSize, H),
      glorot(H * 3 * H, H, H),
      new Float32Array(3 * H),
      glorot(H * A, H, A, 0.1),
      new Float32Array(A),
      new Float32Array(A).fill(Math.log(this.config.initStd)),
    ];
  }

  initialState(): Float32Array {
    return new Float32Array(this.config.hidden);
  }

  /** The input vector x_t. */
  input(i: Rl2Input): Float32Array {
    const x = new Float32Array(this.inputSize);
    x.set(i.observation, 0);
    x.set(i.previousAction, this.config.observationSize);
    x[this.inputSize - 2] = i.previousReward;
    x[this.inputSize - 1] = i.previousDone;
    return x;
  }

  /** h_t and the action distribution's mean from h_{t-1} and x_t (host, float64 accumulation). */
  forward(params: readonly Float32Array[], h: Float32Array, x: Float32Array): { state: Float32Array; mean: Float32Array } {
    const { hidden: H, actionSize: A } = this.config;
    const [w, u, b, hw, hb] = params;
    const g = new Float64Array(3 * H);
    const gh = new Float64Array(3 * H);
    for (let j = 0; j < 3 * H; j++) g[j] = b[j];
    for (let i = 0; i < x.length; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      for (let j = 0; j < 3 * H; j++) g[j] += xi * w[i * 3 * H + j];
    }
    for (let i = 0; i < H; i++) {
      const hi = h[i];
      if (hi === 0) continue;
      for (let j = 0; j < 3 * H; j++) gh[j] += hi * u[i * 3 * H + j];
    }
    const state = new Float32Array(H);
    for (let j = 0; j < H; j++) {
      const z = sigmoid(g[j] + gh[j]);
      const r = sigmoid(g[H + j] + gh[H + j]);
      const n = Math.tanh(g[2 * H + j] + r * gh[2 * H + j]);
      state[j] = (1 - z) * n + z * h[j];
    }
    const mean = new Float32Array(A);
    for (let a = 0; a < A; a++) {
      let s = hb[a];
      for (let j = 0; j < H; j++) s += state[j] * hw[j * A + a];
      mean[a] = s;
    }
    return { state, mean };
  }

  /** One action: the new state, the action (mean + std * noise) and its log-density. */
  step(params: readonly Float32Array[], h: Float32Array, input: Rl2Input, rng: Rng, deterministic = false): { state: Float32Array; action: Float32Array; logProb: number } {
    const { state, mean } = this.forward(params, h, this.input(input));
    const logStd = params[5];
    const action = new Float32Array(mean.length);
    let logProb = 0;
    for (let a = 0; a < mean.length; a++) {
      const eps = deterministic ? 0 : rng.normal();
      action[a] = mean[a] + Math.exp(logStd[a]) * eps;
      logProb += -0.5 * eps * eps - logStd[a] - 0.5 * Math.log(2 * Math.PI);
    }
    return { state, action, logProb };
  }

  /**
   * log pi(a_t | x_1..t) for sequences unrolled from a zero state: inputs [B, T, I],
   * actions [B, T, A] -> [B, T]. Differentiable in params (backpropagation through time).
   */
  logProbSequences(params: readonly Tensor[], inputs: Tensor, actions: Tensor): Tensor {
    const [w, u, b, hw, hb, logStd] = params;
    const [B, T] = inputs.shape;
    const H = this.config.hidden;
    const xs = tf.unstack(tf.add(tf.reshape(tf.matMul(tf.reshape(inputs, [B * T, this.inputSize]), w), [B, T, 3 * H]), b), 1);
    let h: Tensor = tf.zeros([B, H]);
    const states: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const gh = tf.matMul(h, u);
      const [xz, xr, xn] = tf.split(xs[t], 3, 1);
      const [hz, hr, hn] = tf.split(gh, 3, 1);
      const z = tf.sigmoid(tf.add(xz, hz));
      const r = tf.sigmoid(tf.add(xr, hr));
      const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
      h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
      states.push(h);
    }
    const mean = tf.add(tf.reshape(tf.matMul(tf.reshape(tf.stack(states, 1), [B * T, H]), hw), [B, T, this.config.actionSize]), hb);
    const eps = tf.div(tf.sub(actions, mean), tf.exp(logStd));
    return tf.sum(tf.sub(tf.mul(-0.5, tf.square(eps)), tf.add(logStd, 0.5 * Math.log(2 * Math.PI))), -1);
  }
}

export const gruPolicyPlugin: PluginManifest<'policy', GruPolicyConfig, GruPolicy> = {
  kind: 'policy',
  name: 'rl2-gru',
  version: '1.0.0',
  description: 'RL^2 recurrent policy (Duan et al. 2016): GRU over [obs, previous action, reward, done], Gaussian head; state kept across episodes',
  configSchema: gruPolicyConfig,
  create: (config) => new GruPolicy(config),
};
