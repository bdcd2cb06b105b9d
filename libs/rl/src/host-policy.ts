import { Rng, invalidArgument } from '@chameleon/core';

/** Host-side sampling result: actions [n * act] and their log-probabilities [n]. */
export interface ActResult {
  readonly actions: Float32Array;
  readonly logProbs: Float32Array;
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Glorot (or fixed-std) truncated-normal weights, zero biases, log_std = log(initStd). */
export function initGaussianMlp(sizes: readonly number[], init: 'glorot' | number, initStd: number, seed: number): Float32Array[] {
  const rng = Rng.fromKeys('gaussian-mlp-init', seed);
  const out: Float32Array[] = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    const std = init === 'glorot' ? Math.sqrt(2 / (fanIn + fanOut)) : init;
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = rng.truncatedNormal(0, std);
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
 * One dense layer for a block of `rows` (1-4) rows: out[r] = act(h[r] . w + b). Rows share
 * each weight load: four rows per pass ran about 2.5x faster than one (measured, 100 x 100).
 */
function layerBlock(h: Float64Array, out: Float64Array, rows: number, w: Float32Array, b: Float32Array, nIn: number, nOut: number, width: number): void {
  for (let r = 0; r < rows; r++) for (let j = 0; j < nOut; j++) out[r * width + j] = b[j];
  if (rows === 4) {
    const [o1, o2, o3] = [width, 2 * width, 3 * width];
    for (let i = 0; i < nIn; i++) {
      const [h0, h1, h2, h3] = [h[i], h[o1 + i], h[o2 + i], h[o3 + i]];
      const base = i * nOut;
      for (let j = 0; j < nOut; j++) {
        const wj = w[base + j];
        out[j] += h0 * wj;
        out[o1 + j] += h1 * wj;
        out[o2 + j] += h2 * wj;
        out[o3 + j] += h3 * wj;
      }
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const [ho, oo] = [r * width, r * width];
    for (let i = 0; i < nIn; i++) {
      const hi = h[ho + i];
      if (hi === 0) continue;
      const base = i * nOut;
      for (let j = 0; j < nOut; j++) out[oo + j] += hi * w[base + j];
    }
  }
}

/**
 * Samples a ~ N(mlp(obs), exp(logStd)^2) in plain JS: for actors, where n is small and a
 * tfjs call (upload, kernels, download) costs more than the arithmetic. `paramSets` with
 * `setOfRow` lets every row use its own parameters (e.g. per-task adapted policies in one
 * vector of worlds). Accumulates in float64; rows sharing parameters go four at a time.
 */
export function hostGaussianMlpActRows(
  sizes: readonly number[],
  activation: 'tanh' | 'relu',
  paramSets: readonly (readonly Float32Array[])[],
  setOfRow: ArrayLike<number> | undefined,
  obs: Float32Array,
  n: number,
  rng: Rng,
  deterministic: boolean,
): ActResult {
  const layers = sizes.length - 1;
  const obsSize = sizes[0];
  const act = sizes[layers];
  if (!Number.isInteger(n) || n < 0) throw invalidArgument('n', `must be a non-negative integer, got ${n}`);
  if (obs.length !== n * obsSize) throw invalidArgument('observations', `must hold ${n} x ${obsSize} values, got ${obs.length}`);
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
        const z = deterministic ? 0 : rng.normal();
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
