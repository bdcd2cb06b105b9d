import { z } from 'zod';
import { Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import { matMulT, relu } from '../kernels';
import type { FunctionalModel, ParamSpec } from '../model';
import { tf, type Tensor } from '../tf';
import { batchNorm, conv2d } from './ops';
import { maxPool2x2 } from './pool';

export const conv4Config = z
  .object({
    /** One input image [height, width, channels]. Default [28, 28, 1] (Omniglot); [84, 84, 3] for MiniImageNet. */
    inputShape: z.tuple([z.number().int().min(2).max(512), z.number().int().min(2).max(512), z.number().int().min(1).max(16)]).default([28, 28, 1]),
    /** Filters of every 3x3 convolution. Default 64 (Finn et al. 2017; Snell et al. 2017). */
    filters: z.number().int().min(1).max(1024).default(64),
    /** Outputs of the linear head: the N of N-way classification. Default 5. */
    ways: z.number().int().min(2).max(10_000).default(5),
    /** "batch": transductive batch norm (statistics of the current batch) with learnable scale and offset; "none": a conv bias instead. Default "batch". */
    normalisation: z.enum(['batch', 'none']).default('batch'),
    /** Batch-norm epsilon. Default 0.001 (tf.contrib.layers.batch_norm, which MAML used). */
    epsilon: z.number().positive().max(1).default(1e-3),
  })
  .strict();

export type Conv4Config = z.infer<typeof conv4Config>;

/** Models that can embed inputs without their head (prototypical and matching networks, SNAIL). */
export interface EmbeddingModel extends FunctionalModel {
  /** How many leading parameters (in spec order) the embedding uses: the rest is the head. */
  readonly embeddingParams: number;
  /** Shape of one embedding, [D]. */
  readonly embeddingShape: readonly number[];
  /**
   * Shared parameters, batch statistics per group: x [G, N, ...input] -> [G, N, D]. Each group
   * (a task's episode) is normalised with its own statistics.
   */
  embed(params: readonly Tensor[], x: Tensor): Tensor;
}

const BLOCKS = 4;

/**
 * The conv-4 network of few-shot learning (Vinyals et al. 2016; Finn et al. 2017; Snell et
 * al. 2017): 4 blocks of [3x3 conv with `filters` filters, batch norm, ReLU, 2x2 max-pool],
 * flattened, then a linear head to `ways` logits. 28x28 inputs end at 1x1x64, 84x84 at 5x5x64.
 * Every op is differentiable twice (./ops), as second-order MAML requires.
 *
 * @example
 *   const model = new Conv4(conv4Config.parse({ ways: 5 }));
 *   const theta = model.init(1).map((v, i) => tf.tensor(v, model.spec[i].shape));
 *   const logits = model.forward(theta, images);            // [N, 28, 28, 1] -> [N, 5]
 *   const perTask = model.forwardPerTask(phi, episodes);    // phi [T, ...], x [T, N, 28, 28, 1]
 */
export class Conv4 implements EmbeddingModel {
  readonly architecture = 'conv4';
  readonly spec: ParamSpec[];
  readonly inputShape: number[];
  readonly outputShape: number[];
  readonly embeddingShape: number[];
  readonly embeddingParams: number;
  /** Parameters per block: [kernel, scale, offset] with batch norm, [kernel, bias] without. */
  private readonly perBlock: number;

  constructor(readonly config: Conv4Config) {
    const { inputShape, filters, ways, normalisation } = config;
    this.inputShape = [...inputShape];
    this.outputShape = [ways];
    this.spec = [];
    let [h, w, c] = inputShape;
    for (let l = 0; l < BLOCKS; l++) {
      // Stored as [3 * 3 * Cin, Cout] ((row, column, channel)-major): every parameter stays at
      // most rank 2, so with a task axis in front it is rank 3, where tfjs's Tile has a gradient
      // (it has none beyond rank 4, and per-task parameters are made by tiling).
      this.spec.push({ name: `block${l}/conv/kernel`, shape: [9 * c, filters] });
      if (normalisation === 'batch') {
        // A conv bias would be cancelled by the batch mean: the offset takes its place.
        this.spec.push({ name: `block${l}/norm/scale`, shape: [filters] });
        this.spec.push({ name: `block${l}/norm/offset`, shape: [filters] });
      } else {
        this.spec.push({ name: `block${l}/conv/bias`, shape: [filters] });
      }
      [h, w, c] = [Math.floor(h / 2), Math.floor(w / 2), filters];
      if (h < 1 || w < 1) throw new Error(`conv4: input ${inputShape.join('x')} is too small for 4 poolings`);
    }
    this.perBlock = normalisation === 'batch' ? 3 : 2;
    this.embeddingParams = this.spec.length;
    this.embeddingShape = [h * w * c];
    this.spec.push({ name: 'head/weight', shape: [h * w * c, ways] });
    this.spec.push({ name: 'head/bias', shape: [ways] });
  }

  /** Glorot-uniform kernels (MAML's xavier_initializer), unit scale, zero offsets and biases. */
  init(seed: number): Float32Array[] {
    const rng = Rng.fromKeys('conv4-init', seed);
    return this.spec.map((p) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(n);
      if (p.name.endsWith('/scale')) v.fill(1);
      else if (p.shape.length >= 2) {
        // A conv kernel [9 * Cin, Cout]: fan-in 9 Cin, fan-out 9 Cout (Glorot for convolutions).
        const receptive = p.name.endsWith('/kernel') ? 9 : 1;
        const [fanIn, fanOut] = [p.shape[0], receptive * p.shape[1]];
        const limit = Math.sqrt(6 / (fanIn + fanOut));
        for (let i = 0; i < n; i++) v[i] = rng.uniform(-limit, limit);
      }
      return v;
    });
  }

  /** The 4 blocks on x [G * n, H, W, C] with batch statistics per group; returns [G * n, D]. */
  private body(params: readonly Tensor[], x: Tensor, groups: number): Tensor {
    let h = x;
    for (let l = 0; l < BLOCKS; l++) {
      const p = params.slice(l * this.perBlock, (l + 1) * this.perBlock);
      const kernel = tf.reshape(p[0], [3, 3, h.shape[3] as number, p[0].shape[1] as number]);
      h = conv2d(h, kernel, [1, 1, 1, 1], l > 0);
      h = this.config.normalisation === 'batch' ? batchNorm(h, p[1], p[2], groups, this.config.epsilon) : tf.add(h, p[1]);
      h = maxPool2x2(relu(h));
    }
    return tf.reshape(h, [h.shape[0], -1]);
  }

  forward(params: readonly Tensor[], x: Tensor): Tensor {
    const features = this.body(params, x, 1);
    const [w, b] = params.slice(this.embeddingParams);
    // Not kernels' dense(): wasm's fused matmul reads the bias shape from its storage, which
    // is wrong for the reshaped per-task slices forwardPerTask passes.
    return tf.add(matMulT(features, w), b);
  }

  /**
   * Per-task parameters: tfjs has no grouped convolution, so each task runs through its own
   * weights in a loop (see README for the measurements behind this choice).
   */
  forwardPerTask(params: readonly Tensor[], x: Tensor): Tensor {
    const T = x.shape[0];
    const outs: Tensor[] = [];
    const keepActivations = tapeOn();
    for (let t = 0; t < T; t++) {
      const one = () => this.forward(params.map((v) => taskSlice(v, t)), taskSlice(x, t));
      // Without a gradient tape nobody needs the activations: free each task's at once (an
      // evaluation chunk of 100 tasks would otherwise hold gigabytes until its tidy ends).
      outs.push(keepActivations ? one() : tf.tidy(one));
    }
    // One task: expandDims, not stack. tfjs hands a one-output op's gradient a bare tensor, and
    // Unpack's gradient (met when differentiating stack's gradient, i.e. second-order MAML)
    // expects an array: stack of one tensor breaks second-order meta-gradients at meta-batch 1.
    return T === 1 ? tf.expandDims(outs[0], 0) : tf.stack(outs, 0);
  }

  embed(params: readonly Tensor[], x: Tensor): Tensor {
    const [G, N] = x.shape;
    const run = (g: number, xs: Tensor) => tf.reshape(this.body(params, tf.reshape(xs, [g * N, ...this.inputShape]), g), [g, N, this.embeddingShape[0]]);
    if (tapeOn() || G <= EMBED_CHUNK) return run(G, x);
    // Statistics are per group, so groups can be embedded a few at a time with the same result.
    const parts: Tensor[] = [];
    for (let g = 0; g < G; g += EMBED_CHUNK) {
      const n = Math.min(EMBED_CHUNK, G - g);
      parts.push(tf.tidy(() => run(n, tf.slice(x, [g, ...x.shape.slice(1).map(() => 0)], [n, ...x.shape.slice(1)]))));
    }
    return tf.concat(parts, 0);
  }
}

/** Groups embedded at once when no gradient is recorded (bounds the memory of evaluation). */
const EMBED_CHUNK = 8;

/** True while tfjs records a gradient tape (activations must then stay alive). */
function tapeOn(): boolean {
  const engine = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof engine.isTapeOn === 'function' ? engine.isTapeOn() : true;
}

/** Entry t of the leading axis, without that axis. */
function taskSlice(v: Tensor, t: number): Tensor {
  const shape = v.shape as number[];
  return tf.reshape(tf.slice(v, [t, ...shape.slice(1).map(() => 0)], [1, ...shape.slice(1)]), shape.slice(1));
}

export const conv4Plugin: PluginManifest<'model', Conv4Config, FunctionalModel> = {
  kind: 'model',
  name: 'conv4',
  version: '1.0.0',
  description: 'Conv-4 few-shot network: 4 x [3x3 conv, batch norm, ReLU, 2x2 max-pool] + linear head (Finn et al. 2017)',
  configSchema: conv4Config,
  create: (config) => new Conv4(config),
};
