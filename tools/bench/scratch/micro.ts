import { initBackend, tf } from '@chameleon/nn';

function time(label: string, fn: () => void, n = 300) {
  for (let i = 0; i < 20; i++) tf.tidy(fn);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) tf.tidy(fn);
  const us = ((performance.now() - t0) * 1000) / n;
  console.log(label.padEnd(50), us.toFixed(1), 'us');
}

async function main() {
  await initBackend('wasm');
  const a40 = tf.randomNormal([40]);
  const b40 = tf.randomNormal([40]);
  const A = tf.randomNormal([250, 40]);
  const W = tf.randomNormal([40, 40]);
  const B3 = tf.randomNormal([25, 10, 40]);
  const C3 = tf.randomNormal([25, 40, 10]);
  const G = tf.randomNormal([25, 10, 10]);
  time('add [40] x10', () => { for (let i = 0; i < 10; i++) tf.add(a40, b40); });
  time('add [250,40] x10', () => { for (let i = 0; i < 10; i++) tf.add(A, A); });
  time('mul [250,40] x10', () => { for (let i = 0; i < 10; i++) tf.mul(A, A); });
  time('relu [250,40] x10', () => { for (let i = 0; i < 10; i++) tf.relu(A); });
  time('reshape x10', () => { for (let i = 0; i < 10; i++) tf.reshape(A, [25, 10, 40]); });
  time('transpose [250,40] x10', () => { for (let i = 0; i < 10; i++) tf.transpose(A); });
  time('transpose [40,40] x10', () => { for (let i = 0; i < 10; i++) tf.transpose(W); });
  time('matMul [250,40]x[40,40] x10', () => { for (let i = 0; i < 10; i++) tf.matMul(A, W); });
  time('matMul [250,40]x[40,40] newW x10', () => { for (let i = 0; i < 10; i++) tf.matMul(A, tf.add(W, 0)); });
  time('fused matMul+bias+relu x10', () => { for (let i = 0; i < 10; i++) tf.fused.matMul({ a: A, b: W, bias: a40, activation: 'relu' }); });
  time('matMul A^T A [40,250]x[250,40] tA x10', () => { for (let i = 0; i < 10; i++) tf.matMul(A, A, true, false); });
  time('transpose+matMul A^T A x10', () => { for (let i = 0; i < 10; i++) tf.matMul(tf.transpose(A), A); });
  time('batched [25,10,40]x[25,40,10] x10', () => { for (let i = 0; i < 10; i++) tf.matMul(B3, C3); });
  time('batched [25,10,10]x[25,10,40] x10', () => { for (let i = 0; i < 10; i++) tf.matMul(G, B3); });
  time('sum [250,40] axis0 x10', () => { for (let i = 0; i < 10; i++) tf.sum(A, 0); });
  time('mean all x10', () => { for (let i = 0; i < 10; i++) tf.mean(A); });
  // tape on
  time('grad of sum(add) x10 adds', () => { tf.grad((x: tf.Tensor) => { let y = x; for (let i = 0; i < 10; i++) y = tf.add(y, b40); return tf.sum(y); })(a40); });
  time('grad of sum(x) only', () => { tf.grad((x: tf.Tensor) => tf.sum(x))(a40); });
}
main();
