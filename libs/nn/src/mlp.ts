import { z } from 'zod';
import { Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import { activation, type ActivationName } from './activations';
import type { FunctionalModel, ParamSpec } from './model';
import { tf, type Tensor } from './tf';

export const mlpConfig = z
  .object({
    /** Input features. Default 1 (sinusoid). */
    inputSize: z.number().int().min(1).max(1_000_000).default(1),
    /** Hidden layer widths. Default [40, 40] (Finn et al. 2017). */
    hidden: z.array(z.number().int().min(1).max(65_536)).max(64).default([40, 40]),
    /** Outputs. Default 1. */
    outputSize: z.number().int().min(1).max(1_000_000).default(1),
    /** Hidden activation. Default relu. */
    activation: z.enum(['relu', 'tanh']).default('relu'),
    /** Weight initialisation: truncated normal with this std (0.01 as in MAML's code), or "glorot". */
    init: z.union([z.literal('glorot'), z.number().positive()]).default('glorot'),
  })
  .strict();

export type MlpConfig = z.infer<typeof mlpConfig>;

/** A fully connected network: dense -> activation -> ... -> dense. */
export class Mlp implements FunctionalModel {
  readonly architecture = 'mlp';
  readonly spec: ParamSpec[];
  readonly inputShape: number[];
  readonly outputShape: number[];
  private readonly act: (x: Tensor) => Tensor;

  constructor(readonly config: MlpConfig) {
    const sizes = [config.inputSize, ...config.hidden, config.outputSize];
    this.spec = [];
    for (let l = 0; l < sizes.length - 1; l++) {
      this.spec.push({ name: `layer${l}/weight`, shape: [sizes[l], sizes[l + 1]] });
      this.spec.push({ name: `layer${l}/bias`, shape: [sizes[l + 1]] });
    }
    this.inputShape = [config.inputSize];
    this.outputShape = [config.outputSize];
    this.act = activation(config.activation as ActivationName);
  }

  get layers(): number {
    return this.spec.length / 2;
  }

  init(seed: number): Float32Array[] {
    const rng = Rng.fromKeys('mlp-init', seed);
    return this.spec.map((p) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(n);
      if (p.shape.length === 2) {
        const [fanIn, fanOut] = p.shape;
        const std = this.config.init === 'glorot' ? Math.sqrt(2 / (fanIn + fanOut)) : this.config.init;
        for (let i = 0; i < n; i++) v[i] = rng.truncatedNormal(0, std);
      }
      return v;
    });
  }

  forward(params: readonly Tensor[], x: Tensor): Tensor {
    let h = x;
    for (let l = 0; l < this.layers; l++) {
      h = tf.add(tf.matMul(h, params[2 * l]), params[2 * l + 1]);
      if (l < this.layers - 1) h = this.act(h);
    }
    return h;
  }

  forwardPerTask(params: readonly Tensor[], x: Tensor): Tensor {
    let h = x;
    for (let l = 0; l < this.layers; l++) {
      // [T, N, in] x [T, in, out] + [T, 1, out]
      h = tf.add(tf.matMul(h, params[2 * l]), tf.expandDims(params[2 * l + 1], 1));
      if (l < this.layers - 1) h = this.act(h);
    }
    return h;
  }
}

export const mlpPlugin: PluginManifest<'model', MlpConfig, FunctionalModel> = {
  kind: 'model',
  name: 'mlp',
  version: '1.0.0',
  description: 'Fully connected network (MAML sinusoid: 1-40-40-1, ReLU)',
  configSchema: mlpConfig,
  create: (config) => new Mlp(config),
};
