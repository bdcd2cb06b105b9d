import { initBackend, tf } from '@chameleon/nn';

function time(label: string, fn: () => void, n = 500) {
  for (let i = 0; i < 50; i++) tf.tidy(fn);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) tf.tidy(fn);
  const us = ((performance.now() - t0) * 1000) / n;
  console.log(label.padEnd(50), us.toFixed(1), 'us');
}
function timeJs(label: string, fn: () => void, n = 500) {
  for (let i = 0; i < 50; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  console.log(label.padEnd(50), (((performance.now() - t0) * 1000) / n).toFixed(1), 'us');
}
// C[m,n] = A[m,k] B[k,n]
function mm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number) {
  c.fill(0);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      if (av === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
    }
  }
}
async function main() {
  await initBackend('wasm');
  const a40 = tf.randomNormal([40]);
  const b40 = tf.randomNormal([40]);
  const A = tf.randomNormal([250, 40]);
  const W = tf.randomNormal([40, 40]);
  for (let r = 0; r < 2; r++) {
    time('add [250,40] x10', () => { for (let i = 0; i < 10; i++) tf.add(A, A); });
    time('add [40] x10', () => { for (let i = 0; i < 10; i++) tf.add(a40, b40); });
    time('add scalar-ish [40]+1 x10', () => { for (let i = 0; i < 10; i++) tf.add(a40, 1); });
    time('matMul [250,40]x[40,40] x10', () => { for (let i = 0; i < 10; i++) tf.matMul(A, W); });
    time('add(W,0) x10', () => { for (let i = 0; i < 10; i++) tf.add(W, W); });
    time('matMul [250,40]x[40,40] newW x10', () => { for (let i = 0; i < 10; i++) tf.matMul(A, tf.add(W, W)); });
    time('matMul [250,40]x[40,1] newW x10', () => { for (let i = 0; i < 10; i++) tf.matMul(A, tf.add(a40, a40).reshape([40, 1])); });
    time('transpose [250,40] x10', () => { for (let i = 0; i < 10; i++) tf.transpose(A); });
  }
  const a = new Float32Array(250 * 40).map(() => Math.random());
  const w = new Float32Array(40 * 40).map(() => Math.random());
  const c = new Float32Array(250 * 40);
  timeJs('js mm 250x40x40', () => mm(a, w, c, 250, 40, 40));
  const g = new Float32Array(25 * 100).map(() => Math.random());
  const c2 = new Float32Array(250 * 40);
  timeJs('js batched 25x(10x10 . 10x40)', () => { for (let t = 0; t < 25; t++) mm(g.subarray(t * 100), a.subarray(t * 400), c2.subarray(t * 400), 10, 10, 40); });
}
main();
