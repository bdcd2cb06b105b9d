import { dim, Mlp, tf, type ParamSpec, type Tensor } from '@chameleon/nn';

/** Name of the first layer's rows that multiply the context. */
export const CONTEXT_WEIGHT = 'context/layer0/weight';

/**
 * An Mlp fed [x, context]: the context vector of a task is concatenated to every input, so
 * the first layer is `inputSize + contextSize` wide (Zintgraf et al. 2019, section 3). The
 * parameter list keeps the base Mlp's tensors first, then the context rows of the first
 * weight ([contextSize, hidden0]): theta alone is the base model with a zero context.
 *
 * @example
 *   const net = new ContextMlp(mlp, 4);
 *   const y = net.forward(params, tf.zeros([T, 4]), x);   // x [T, N, in] -> [T, N, out]
 */
export class ContextMlp {
  /** The Mlp over the concatenated input. */
  readonly wide: Mlp;
  readonly spec: ParamSpec[];

  constructor(
    readonly base: Mlp,
    readonly contextSize: number,
  ) {
    this.wide = new Mlp({ ...base.config, inputSize: base.config.inputSize + contextSize });
    this.spec = [...base.spec, { name: CONTEXT_WEIGHT, shape: [contextSize, base.spec[0].shape[1]] }];
  }

  /** The wide Mlp's initialisation, its first weight split into input rows and context rows. */
  init(seed: number): Float32Array[] {
    const wide = this.wide.init(seed);
    const split = this.base.config.inputSize * this.spec[0].shape[1];
    return [wide[0].slice(0, split), ...wide.slice(1), wide[0].slice(split)];
  }

  /**
   * Outputs [T, N, out] for inputs [T, N, in] and per-task contexts [T, C]. The weights are
   * shared by all tasks, so every layer is one unbatched matMul over all rows.
   */
  forward(params: readonly Tensor[], context: Tensor, x: Tensor): Tensor {
    const [T, N] = [dim(x, 0), dim(x, 1)];
    const n = this.base.spec.length;
    const c = tf.tile(tf.expandDims(context, 1), [1, N, 1]);
    const rows = tf.reshape(tf.concat([x, c], 2), [T * N, -1]);
    const weights = [tf.concat([params[0], params[n]], 0), ...params.slice(1, n)];
    const y = this.wide.forward(weights, rows);
    return tf.reshape(y, [T, N, ...(y.shape as number[]).slice(1)]);
  }

  /**
   * The base model's per-task parameters [T, ...] that compute the same function: the first
   * layer gives [x, c] W + b = x W_x + (b + c W_c), so the first bias absorbs the context.
   */
  fold(params: readonly Tensor[], context: Tensor): Tensor[] {
    const T = dim(context, 0);
    const n = this.base.spec.length;
    const tiled = params.slice(0, n).map((p) => tf.tile(tf.expandDims(p, 0), [T, ...p.shape.map(() => 1)]));
    tiled[1] = tf.add(params[1], tf.matMul(context, params[n]));
    return tiled;
  }
}
