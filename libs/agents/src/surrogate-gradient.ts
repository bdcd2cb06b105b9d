import { tf } from '@chameleon/nn';
import type { GaussianMlpPolicy } from '@chameleon/rl';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** a [m, k] x b [k, n] by tfjs (plain operands: see {@link gaussianMlpSurrogateGradient}). */
function matMul(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Float32Array {
  const c = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])));
  const out = c.dataSync() as Float32Array;
  c.dispose();
  return out;
}

/**
 * A dense layer h [m, k] x w [k, n] + b by tfjs, then the hidden activation: relu, or tanh
 * as tanhN computes it (2 sigmoid(2x) - 1; wasm's sigmoid is several times cheaper than a
 * host loop of Math.exp).
 */
function dense(h: Float32Array, m: number, k: number, w: Float32Array, b: Float32Array, activation: 'tanh' | 'relu' | undefined): Float32Array {
  const c = tf.tidy(() => {
    const x = tf.add(tf.matMul(tf.tensor2d(h, [m, k]), tf.tensor2d(w, [k, b.length])), tf.tensor1d(b));
    return activation === 'relu' ? tf.relu(x) : activation === 'tanh' ? tf.sub(tf.mul(2, tf.sigmoid(tf.mul(2, x))), 1) : x;
  });
  const out = c.dataSync() as Float32Array;
  c.dispose();
  return out;
}

/** x [rows, cols] -> x^T [cols, rows]. */
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0, o = r * cols; c < cols; c++) t[c * rows + r] = x[o + c];
  return t;
}

/**
 * The gradient of eq. 9's importance surrogate mean_r exp(log pi(a_r | s_r) - old_r) * adv_r
 * for a `gaussian-mlp` policy with respect to its parameters (one array per parameter
 * tensor), with the backward pass written out: what `tf.valueAndGrads` of
 * `importanceSurrogate(policy.logProb(...))` computes, to float32 rounding, at a fraction of
 * its cost. Why: tfjs's automatic gradient of a dense layer multiplies by transposed operands
 * (matMul with transposeA / transposeB), which the wasm backend runs about 10x slower than a
 * plain matMul of the same size (measured: h^T d for 400 rows, 98 x 64, 5.5 ms against 0.5
 * ms), and each of its few dozen small ops costs 0.1-0.4 ms. Here the products are plain tfjs
 * matMuls of operands transposed on the host (float32, as tfjs computes them), the forward
 * pass's element-wise work is tfjs's too, and the backward pass's is host loops (float64 per
 * row, stored as float32).
 *
 * Backward: with g_r = ratio_r * adv_r / n and z = (a - mu) / sigma, d/dmu = g z / sigma and
 * d/dlog_std = sum_r g_r (z^2 - 1); then through each dense layer (dW = h^T d, db = sum_r d,
 * dh = d W^T) and its activation (tanh, valued as tanhN computes it, 2 sigmoid(2x) - 1, with
 * derivative 1 - h^2; relu: 1 where the input is positive, as tfjs's relu gradient).
 */
export function gaussianMlpSurrogateGradient(
  policy: GaussianMlpPolicy,
  params: readonly Float32Array[],
  observations: Float32Array,
  actions: Float32Array,
  oldLogProbs: Float32Array,
  advantages: Float32Array,
  n: number,
): Float32Array[] {
  const sizes = policy.sizes;
  const layers = sizes.length - 1;
  const relu = policy.config.activation === 'relu';
  // h[l]: layer l's input [n, sizes[l]]; h[layers]: the mean.
  const h: Float32Array[] = [observations];
  for (let l = 0; l < layers; l++) h.push(dense(h[l], n, sizes[l], params[2 * l], params[2 * l + 1], l < layers - 1 ? policy.config.activation : undefined));
  const grads: Float32Array[] = params.map((p) => new Float32Array(p.length));
  let d = headGradient(h[layers], params[2 * layers], actions, oldLogProbs, advantages, n, grads[2 * layers]);
  for (let l = layers - 1; l >= 0; l--) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    grads[2 * l] = matMul(transpose(h[l], n, nIn), nIn, n, d, nOut);
    columnSums(d, grads[2 * l + 1]);
    if (l === 0) break;
    d = matMul(d, n, nOut, transpose(params[2 * l], nIn, nOut), nIn);
    activationBackward(d, h[l], relu);
  }
  return grads;
}

/** d [n, m] *= the activation's derivative at the layer's output h (tanh: 1 - h^2; relu: h > 0). */
function activationBackward(d: Float32Array, h: Float32Array, relu: boolean): void {
  if (relu) for (let i = 0; i < d.length; i++) d[i] = h[i] > 0 ? d[i] : 0;
  else for (let i = 0; i < d.length; i++) d[i] *= 1 - h[i] * h[i];
}

/** out[j] = sum_r d[r, j] (float64 sums). */
function columnSums(d: Float32Array, out: Float32Array): void {
  const m = out.length;
  const s = new Float64Array(m);
  for (let o = 0; o < d.length; o += m) for (let j = 0; j < m; j++) s[j] += d[o + j];
  out.set(s);
}

/**
 * The Gaussian head: writes d/dlog_std into `gLogStd` and returns d/dmu [n, A] of the
 * surrogate mean_r exp(log pi_r - old_r) adv_r, in float64 per row.
 */
function headGradient(mean: Float32Array, logStd: Float32Array, actions: Float32Array, oldLogProbs: Float32Array, advantages: Float32Array, n: number, gLogStd: Float32Array): Float32Array {
  const A = logStd.length;
  const invStd = new Float64Array(A);
  let logStdSum = 0;
  for (let j = 0; j < A; j++) {
    invStd[j] = Math.exp(-logStd[j]);
    logStdSum += logStd[j];
  }
  const z = new Float64Array(A);
  const gs = new Float64Array(A);
  const d = new Float32Array(n * A);
  for (let r = 0, o = 0; r < n; r++, o += A) {
    let sq = 0;
    for (let j = 0; j < A; j++) {
      z[j] = (actions[o + j] - mean[o + j]) * invStd[j];
      sq += z[j] * z[j];
    }
    const g = (Math.exp(-0.5 * sq - logStdSum - A * HALF_LOG_2PI - oldLogProbs[r]) * advantages[r]) / n;
    for (let j = 0; j < A; j++) {
      gs[j] += g * (z[j] * z[j] - 1);
      d[o + j] = g * z[j] * invStd[j];
    }
  }
  gLogStd.set(gs);
  return d;
}
