import { Rng, invalidArgument } from '@chameleon/core';

/** Host-side sampling result: actions [n * act] and their log-probabilities [n]. */
export interface ActResult {
  readonly actions: Float32Array;
  readonly logProbs: Float32Array;
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Glorot (or fixed-std) truncated-normal weights (the output layer's times outputScale), zero biases, log_std = log(initStd). */
export function initGaussianMlp(sizes: readonly number[], init: 'glorot' | number, initStd: number, seed: number, outputScale = 1): Float32Array[] {
  const rng = Rng.fromKeys('gaussian-mlp-init', seed);
  const out: Float32Array[] = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    const std = init === 'glorot' ? Math.sqrt(2 / (fanIn + fanOut)) : init;
    const scale = l === sizes.length - 2 ? outputScale : 1;
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = scale * rng.truncatedNormal(0, std);
    out.push(w, new Float32Array(fanOut));
  }
  out.push(new Float32Array(sizes[sizes.length - 1]).fill(Math.log(initStd)));
  return out;
}

function checkParams(sizes: readonly number[], params: readonly Float32Array[], field: string): void {
  const layers = sizes.length - 1;
  if (params.length !== 2 * layers + 1) throw invalidArgument(field, `expected ${2 * layers + 1} parameter arrays, got ${params.length}`);
  for (let l = 0; l < layers; l++) {
    if (params[2 * l].length !== sizes[l] * sizes[l + 1]) throw invalidArgument(`${field}[${2 * l}]`, `layer ${l} weight must hold ${sizes[l]} x ${sizes[l + 1]} values, got ${params[2 * l].length}`);
    if (params[2 * l + 1].length !== sizes[l + 1]) throw invalidArgument(`${field}[${2 * l + 1}]`, `layer ${l} bias must hold ${sizes[l + 1]} values, got ${params[2 * l + 1].length}`);
  }
  if (params[2 * layers].length !== sizes[layers]) throw invalidArgument(`${field}[${2 * layers}]`, `log_std must hold ${sizes[layers]} values`);
}

/**
 * One dense layer for a block of `rows` (1-4) rows: out[r] = h[r] . w + b (activation applied
 * by the caller). Register tiles: four rows x four outputs accumulate in 16 locals over the
 * whole input, so each weight and input value is loaded once per tile (about 2x faster than
 * accumulating in `out`; measured). Every sum runs over the inputs in order, starting from
 * the bias, in float64: the result does not depend on the tiling.
 */
function layerBlock(h: Float64Array, out: Float64Array, rows: number, w: Float32Array, b: Float32Array, nIn: number, nOut: number, width: number): void {
  const nOut4 = nOut - (nOut % 4);
  if (rows === 4) {
    const o1 = width;
    const o2 = 2 * width;
    const o3 = 3 * width;
    for (let j = 0; j < nOut4; j += 4) {
      let a0 = b[j], a1 = b[j + 1], a2 = b[j + 2], a3 = b[j + 3];
      let b0 = a0, b1 = a1, b2 = a2, b3 = a3;
      let c0 = a0, c1 = a1, c2 = a2, c3 = a3;
      let d0 = a0, d1 = a1, d2 = a2, d3 = a3;
      for (let i = 0, wi = j; i < nIn; i++, wi += nOut) {
        const w0 = w[wi], w1 = w[wi + 1], w2 = w[wi + 2], w3 = w[wi + 3];
        const x0 = h[i], x1 = h[o1 + i], x2 = h[o2 + i], x3 = h[o3 + i];
        a0 += x0 * w0; a1 += x0 * w1; a2 += x0 * w2; a3 += x0 * w3;
        b0 += x1 * w0; b1 += x1 * w1; b2 += x1 * w2; b3 += x1 * w3;
        c0 += x2 * w0; c1 += x2 * w1; c2 += x2 * w2; c3 += x2 * w3;
        d0 += x3 * w0; d1 += x3 * w1; d2 += x3 * w2; d3 += x3 * w3;
      }
      out[j] = a0; out[j + 1] = a1; out[j + 2] = a2; out[j + 3] = a3;
      out[o1 + j] = b0; out[o1 + j + 1] = b1; out[o1 + j + 2] = b2; out[o1 + j + 3] = b3;
      out[o2 + j] = c0; out[o2 + j + 1] = c1; out[o2 + j + 2] = c2; out[o2 + j + 3] = c3;
      out[o3 + j] = d0; out[o3 + j + 1] = d1; out[o3 + j + 2] = d2; out[o3 + j + 3] = d3;
    }
    for (let j = nOut4; j < nOut; j++) {
      let a = b[j], c = b[j], d = b[j], e = b[j];
      for (let i = 0, wi = j; i < nIn; i++, wi += nOut) {
        const wj = w[wi];
        a += h[i] * wj; c += h[o1 + i] * wj; d += h[o2 + i] * wj; e += h[o3 + i] * wj;
      }
      out[j] = a; out[o1 + j] = c; out[o2 + j] = d; out[o3 + j] = e;
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    for (let j = 0; j < nOut4; j += 4) {
      let a0 = b[j], a1 = b[j + 1], a2 = b[j + 2], a3 = b[j + 3];
      for (let i = 0, wi = j; i < nIn; i++, wi += nOut) {
        const x = h[o + i];
        a0 += x * w[wi]; a1 += x * w[wi + 1]; a2 += x * w[wi + 2]; a3 += x * w[wi + 3];
      }
      out[o + j] = a0; out[o + j + 1] = a1; out[o + j + 2] = a2; out[o + j + 3] = a3;
    }
    for (let j = nOut4; j < nOut; j++) {
      let a = b[j];
      for (let i = 0, wi = j; i < nIn; i++, wi += nOut) a += h[o + i] * w[wi];
      out[o + j] = a;
    }
  }
}

/**
 * Samples a ~ N(mlp(obs), exp(logStd)^2) in plain JS: for actors, where n is small and a
 * tfjs call (upload, kernels, download) costs more than the arithmetic. `paramSets` with
 * `setOfRow` lets every row use its own parameters (e.g. per-task adapted policies in one
 * vector of worlds). Accumulates in float64; rows sharing parameters go four at a time.
 * With `noise` [n * act] the standard-normal draws are given (row r's action is mean +
 * exp(logStd) * noise[r]) and `rng` is not used: a caller keeping one random stream per row
 * draws them itself, so a batch of rows acts exactly as the rows one at a time.
 */
export function hostGaussianMlpActRows(
  sizes: readonly number[],
  activation: 'tanh' | 'relu',
  paramSets: readonly (readonly Float32Array[])[],
  setOfRow: ArrayLike<number> | undefined,
  obs: Float32Array,
  n: number,
  rng: Rng | undefined,
  deterministic: boolean,
  noise?: ArrayLike<number>,
): ActResult {
  const layers = sizes.length - 1;
  const obsSize = sizes[0];
  const act = sizes[layers];
  if (!Number.isInteger(n) || n < 0) throw invalidArgument('n', `must be a non-negative integer, got ${n}`);
  if (obs.length !== n * obsSize) throw invalidArgument('observations', `must hold ${n} x ${obsSize} values, got ${obs.length}`);
  if (noise && noise.length !== n * act) throw invalidArgument('noise', `must hold ${n} x ${act} values, got ${noise.length}`);
  if (!noise && !rng && !deterministic) throw invalidArgument('rng', 'a random stream (or explicit noise) is required to sample');
  paramSets.forEach((p, s) => checkParams(sizes, p, paramSets.length === 1 ? 'params' : `params[${s}]`));
  const width = Math.max(...sizes);
  let h = new Float64Array(4 * width);
  let next = new Float64Array(4 * width);
  const actions = new Float32Array(n * act);
  const logProbs = new Float32Array(n);
  const relu = activation === 'relu';
  const setOf = (r: number) => {
    const set = setOfRow ? setOfRow[r] : 0;
    if (!paramSets[set]) throw invalidArgument('setOfRow', `row ${r} names parameter set ${set}, but ${paramSets.length} were given`);
    return set;
  };
  for (let r0 = 0; r0 < n; ) {
    const set = setOf(r0);
    let rows = 1;
    while (rows < 4 && r0 + rows < n && setOf(r0 + rows) === set) rows++;
    const params = paramSets[set];
    for (let r = 0; r < rows; r++) for (let i = 0; i < obsSize; i++) h[r * width + i] = obs[(r0 + r) * obsSize + i];
    for (let l = 0; l < layers; l++) {
      const nOut = sizes[l + 1];
      layerBlock(h, next, rows, params[2 * l], params[2 * l + 1], sizes[l], nOut, width);
      if (l < layers - 1) {
        for (let r = 0; r < rows; r++) {
          for (let j = r * width; j < r * width + nOut; j++) next[j] = relu ? (next[j] > 0 ? next[j] : 0) : Math.tanh(next[j]);
        }
      }
      const swap = h;
      h = next;
      next = swap;
    }
    const logStd = params[2 * layers];
    for (let r = 0; r < rows; r++) {
      let lp = 0;
      for (let j = 0; j < act; j++) {
        const z = noise ? noise[(r0 + r) * act + j] : deterministic ? 0 : rng!.normal();
        actions[(r0 + r) * act + j] = h[r * width + j] + Math.exp(logStd[j]) * z;
        lp += -0.5 * z * z - logStd[j] - HALF_LOG_2PI;
      }
      logProbs[r0 + r] = lp;
    }
    r0 += rows;
  }
  return { actions, logProbs };
}

/** {@link hostGaussianMlpActRows} with one parameter set for every row. */
export function hostGaussianMlpAct(
  sizes: readonly number[],
  activation: 'tanh' | 'relu',
  params: readonly Float32Array[],
  obs: Float32Array,
  n: number,
  rng: Rng,
  deterministic: boolean,
): ActResult {
  return hostGaussianMlpActRows(sizes, activation, [params], undefined, obs, n, rng, deterministic);
}
