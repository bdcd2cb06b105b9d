import { taskMatMul } from '../kernels';
import { tf, type Tensor } from '../tf';

/**
 * Convolution, max-pooling and batch-norm ops whose gradients can be differentiated again,
 * on every backend. Why they exist: on the wasm backend tfjs has no Conv2DBackpropFilter
 * kernel (so conv2d has no filter gradient at all), no gradient for MaxPoolGrad (so the
 * second derivative through max-pooling fails), and its Conv2DBackpropInput is about 10x
 * slower than a forward convolution. Second-order MAML needs all three.
 */

/** Zero padding of a stride-1 convolution: [top, bottom, left, right]; negative crops. */
export type Pads = readonly [number, number, number, number];

type Fn2 = (a: Tensor, b: Tensor) => Tensor;

function rawConv(x: Tensor, w: Tensor, pads: Pads): Tensor {
  let input = x as tf.Tensor4D;
  if (pads.some((p) => p < 0)) {
    const [, h, wd] = input.shape;
    const [t, b, l, r] = pads.map((p) => Math.max(0, -p));
    input = tf.slice(input, [0, t, l, 0], [-1, h - t - b, wd - l - r, -1]);
  }
  const [t, b, l, r] = pads.map((p) => Math.max(0, p));
  return tf.conv2d(input, w as tf.Tensor4D, 1, [[0, 0], [t, b], [l, r], [0, 0]]);
}

/** The filter of the transposed convolution: spatially flipped, in and out channels swapped. */
const flipTranspose = (w: Tensor): Tensor => tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);

const convOps = new Map<string, Fn2>();

/**
 * Stride-1 2-D convolution, x [N, H, W, Cin] * w [kh, kw, Cin, Cout] with explicit zero
 * padding, differentiable to any order. The forward pass is tf.conv2d; the input gradient
 * is a convolution of dy with the flipped filter, and the filter gradient a convolution of
 * the (transposed) input with the (transposed) dy, both through this same op, so their
 * gradients exist too.
 *
 * @param inputGradient false when x is data (the first layer): its gradient is then zero
 *   instead of a convolution nobody reads.
 * @example
 *   const y = conv2d(x, w, [1, 1, 1, 1]);   // 3x3 "same"
 */
export function conv2d(x: Tensor, w: Tensor, pads: Pads, inputGradient = true): Tensor {
  const key = `${pads.join(',')}/${inputGradient}`;
  let op = convOps.get(key);
  if (!op) {
    const [t, b, l, r] = pads;
    const f = (xIn: Tensor, wIn: Tensor, save: tf.GradSaveFunc) => {
      // Save the inputs, not the output: the gradient is recomputed from them, so it is
      // itself on the tape (the activations.ts recipe).
      save([xIn, wIn]);
      return {
        value: rawConv(xIn, wIn, pads),
        gradFunc: (dy: Tensor, [xs, ws]: Tensor[]) => {
          const [kh, kw] = ws.shape;
          const dx = inputGradient ? conv2d(dy, flipTranspose(ws), [kh - 1 - t, kh - 1 - b, kw - 1 - l, kw - 1 - r]) : tf.zerosLike(xs);
          // dW[i, j, c, o] = sum_{n, h, w} xpad[n, h + i, w + j, c] dy[n, h, w, o]: a convolution
          // over (h, w) with the batch as channels.
          const dw = tf.transpose(conv2d(tf.transpose(xs, [3, 1, 2, 0]), tf.transpose(dy, [1, 2, 0, 3]), pads), [1, 2, 0, 3]);
          return [dx, dw];
        },
      };
    };
    op = tf.customGrad(f as never) as unknown as Fn2;
    convOps.set(key, op);
  }
  return op(x, w);
}

/**
 * Batch normalisation with the statistics of the current batch, per group: x [G * n, H, W, C]
 * is normalised with the mean and (biased) variance of each group's n * H * W positions, then
 * scaled and shifted by gamma and beta ([C], or [G, C] for one per group). No running
 * statistics: this is the transductive batch norm of MAML's code, where support and query
 * sets are normalised with their own statistics. Built from differentiable ops only, so any
 * order of derivative exists. Sums over positions and broadcasts back to them are products
 * with a row or column of ones (taskMatMul): tfjs reduces over a middle axis by transposing
 * the whole activation, and the gradient of every broadcast op is such a reduction.
 */
export function batchNorm(x: Tensor, gamma: Tensor, beta: Tensor, groups: number, epsilon: number): Tensor {
  const [rows, h, w, c] = x.shape;
  const m = (rows / groups) * h * w;
  const x3 = tf.reshape(x, [groups, m, c]);
  const row = tf.ones([groups, 1, m]);
  const column = tf.ones([groups, m, 1]);
  const meanOf = (t: Tensor) => taskMatMul(row, t, groups, { scale: 1 / m }); // [G, 1, C]
  const spread = (t: Tensor) => taskMatMul(column, t, groups); // [G, 1, C] -> [G, m, C]
  const perGroup = (t: Tensor) => (t.rank === 1 ? tf.reshape(tf.tile(tf.reshape(t, [1, c]), [groups, 1]), [groups, 1, c]) : tf.reshape(t, [groups, 1, c]));
  const centred = tf.sub(x3, spread(meanOf(x3)));
  const variance = meanOf(tf.square(centred));
  const scale = tf.mul(tf.rsqrt(tf.add(variance, epsilon)), perGroup(gamma));
  const y = tf.add(tf.mul(centred, spread(scale)), spread(perGroup(beta)));
  return tf.reshape(y, [rows, h, w, c]);
}
