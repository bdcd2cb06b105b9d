import { z } from 'zod';
import { activation, dim, Mlp, tf, type FunctionalModel, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { tileTasks } from '../../adapt';
import type { AdaptInput, AdaptOutput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../../types';
import { ruleAdapt, unrolledMetaGradient, type InnerRule } from '../common/unroll';

export const anilConfig = z
  .object({
    /** Layers adapted in the inner loop, counted from the output. Default 1: the last layer only (Raghu et al. 2019). */
    headLayers: z.number().int().min(1).max(64).default(1),
    /** Hold the inner gradients constant in the outer gradient (first order). Default false. */
    firstOrder: z.boolean().default(false),
  })
  .strict();
export type AnilConfig = z.infer<typeof anilConfig>;

/** Implementation choices that do not change the result. */
export interface AnilOptions {
  /**
   * For an Mlp, compute the frozen body once per batch with the shared weights (one
   * unbatched matMul per layer) and adapt only the head on its features. Default true;
   * false takes the generic path (per-task copies of every layer, head gradients only),
   * the reference the fast path is tested against.
   */
  readonly features?: boolean;
}

/** An Mlp split into the frozen body and the adapted head. */
interface Split {
  readonly bodyParams: number;
  readonly head: Mlp;
  readonly act: (x: Tensor) => Tensor;
}

/**
 * ANIL, "almost no inner loop" (Raghu, Raghu, Bengio & Vinyals 2019): MAML whose inner loop
 * adapts only the head (the last `headLayers` layers); the body is the same for every task
 * during adaptation and is learned in the outer loop only, through the head's adaptation.
 * The parameters are the model's own. For models other than an Mlp, the head is the last
 * 2 * headLayers parameter tensors (a weight and a bias per layer, the Mlp's layout).
 */
export class Anil implements MetaAlgorithm {
  readonly name = 'anil';
  private readonly splits = new WeakMap<FunctionalModel, Split>();

  constructor(
    readonly config: AnilConfig = anilConfig.parse({}),
    readonly options: AnilOptions = {},
  ) {}

  paramSpec(model: FunctionalModel) {
    return [...model.spec];
  }

  init(model: FunctionalModel, seed: number) {
    return model.init(seed);
  }

  /** Index of the first head parameter. */
  headStart(model: FunctionalModel): number {
    return Math.max(0, model.spec.length - 2 * this.config.headLayers);
  }

  metaGradient(input: MetaGradientInput): MetaGradientOutput {
    const { model, batch } = input;
    const T = dim(batch.supportX, 0);
    const h = this.headStart(model);
    const split = this.split(model);
    if (split) {
      return unrolledMetaGradient(input, (all) => ({
        model: split.head,
        start: tileTasks(all.slice(h), T),
        rule: this.rule(input.inner.learningRate),
        supportX: this.body(split, all, batch.supportX),
        queryX: this.body(split, all, batch.queryX),
      }));
    }
    return unrolledMetaGradient(input, (all) => ({ model, start: tileTasks(all, T), rule: this.rule(input.inner.learningRate, (i) => i >= h) }));
  }

  adapt(input: AdaptInput): AdaptOutput {
    const { model, params, supportX } = input;
    const T = dim(supportX, 0);
    const h = this.headStart(model);
    const split = this.split(model);
    if (!split) return ruleAdapt(input, { model, start: tileTasks(params, T), rule: this.rule(input.inner.learningRate, (i) => i >= h) });
    const features = (x?: Tensor) => (x ? this.body(split, params, x) : undefined);
    const r = ruleAdapt(input, {
      model: split.head,
      start: tileTasks(params.slice(h), T),
      rule: this.rule(input.inner.learningRate),
      supportX: features(supportX),
      queryX: features(input.queryX),
      predictX: features(input.predictX),
    });
    // The body is theta's, exactly: tiled, never stepped.
    return { ...r, phi: [...tileTasks(params.slice(0, h), T), ...r.phi] };
  }

  private rule(learningRate: number, adapts?: (i: number) => boolean): InnerRule {
    return { adapts, step: (_i, _s, g) => tf.mul(learningRate, g), firstOrder: this.config.firstOrder };
  }

  /** The body's output for inputs [T, N, in] with the shared weights: [T, N, features]. */
  private body(split: Split, params: readonly Tensor[], x: Tensor): Tensor {
    const [T, N] = [dim(x, 0), dim(x, 1)];
    let f = tf.reshape(x, [T * N, -1]);
    for (let p = 0; p < split.bodyParams; p += 2) f = split.act(tf.add(tf.matMul(f, params[p]), params[p + 1]));
    return tf.reshape(f, [T, N, -1]);
  }

  private split(model: FunctionalModel): Split | undefined {
    if (!(model instanceof Mlp) || this.options.features === false) return undefined;
    let s = this.splits.get(model);
    if (!s) {
      const bodyParams = this.headStart(model);
      const c = model.config;
      const widths = [c.inputSize, ...c.hidden];
      const bodyLayers = bodyParams / 2;
      const head = new Mlp({ ...c, inputSize: widths[bodyLayers], hidden: c.hidden.slice(bodyLayers) });
      s = { bodyParams, head, act: activation(c.activation) };
      this.splits.set(model, s);
    }
    return s;
  }
}

export const anilPlugin: PluginManifest<'algorithm', AnilConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'anil',
  version: '1.0.0',
  description: 'ANIL: MAML with the inner loop on the head only (Raghu et al. 2019)',
  configSchema: anilConfig,
  create: (config) => new Anil(config),
};
