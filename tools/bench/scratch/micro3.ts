import { initBackend, tf } from '@chameleon/nn';

function time(label: string, fn: () => void, n = 500) {
  for (let i = 0; i < 50; i++) tf.tidy(fn);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) tf.tidy(fn);
  console.log(label.padEnd(50), (((performance.now() - t0) * 1000) / n).toFixed(1), 'us');
}
function timeJs(label: string, fn: () => void, n = 500) {
  for (let i = 0; i < 50; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  console.log(label.padEnd(50), (((performance.now() - t0) * 1000) / n).toFixed(1), 'us');
}
// out[t] = A[t] (m x k) . B[t]^T (n x k): contiguous dot products
function bmmNT(a: Float32Array, b: Float32Array, out: Float32Array, T: number, m: number, k: number, n: number) {
  for (let t = 0; t < T; t++) {
    const ao = t * m * k, bo = t * n * k, oo = t * m * n;
    for (let i = 0; i < m; i++) {
      const ai = ao + i * k;
      for (let j = 0; j < n; j++) {
        const bj = bo + j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
        out[oo + i * n + j] = s;
      }
    }
  }
}
// out[t] = A[t] (m x k) . B[t] (k x n)
function bmmNN(a: Float32Array, b: Float32Array, out: Float32Array, T: number, m: number, k: number, n: number) {
  for (let t = 0; t < T; t++) {
    const ao = t * m * k, bo = t * k * n, oo = t * m * n;
    for (let i = 0; i < m; i++) {
      const oi = oo + i * n;
      for (let j = 0; j < n; j++) out[oi + j] = 0;
      for (let p = 0; p < k; p++) {
        const av = a[ao + i * k + p];
        const bp = bo + p * n;
        for (let j = 0; j < n; j++) out[oi + j] += av * b[bp + j];
      }
    }
  }
}
async function main() {
  await initBackend('wasm');
  const H = tf.randomNormal([25, 10, 40]);
  const A = tf.randomNormal([25, 10, 40]);
  const G = tf.randomNormal([25, 10, 10]);
  for (let r = 0; r < 2; r++) {
    time('bmm H A^T (tB) [25,10,40]x[25,10,40]^T', () => tf.matMul(H, A, false, true));
    time('bmm G D [25,10,10]x[25,10,40]', () => tf.matMul(G, A));
    time('bmm G^T D (tA)', () => tf.matMul(G, A, true, false));
    time('bcast mul+sum gram', () => tf.sum(tf.mul(tf.expandDims(H, 2), tf.expandDims(A, 1)), -1));
    time('bcast mul [25,10,10,40] only', () => tf.mul(tf.expandDims(H, 2), tf.expandDims(A, 1)));
  }
  const h = new Float32Array(10000).map(Math.random), a = new Float32Array(10000).map(Math.random), g = new Float32Array(2500).map(Math.random);
  const o = new Float32Array(2500), o2 = new Float32Array(10000);
  for (let r = 0; r < 2; r++) {
    timeJs('js NT gram', () => bmmNT(h, a, o, 25, 10, 40, 10));
    timeJs('js NN G D', () => bmmNN(g, a, o2, 25, 10, 10, 40));
  }
}
main();
