import { SinusoidSource } from '@chameleon/envs';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { initBackend, Mlp, mlpConfig, tf, type Tensor } from '@chameleon/nn';
import { Maml, metaGradientHost, type MetaBatch } from '@chameleon/meta';

// a . b with explicit-transpose gradient
const mm = tf.customGrad(((a: Tensor, b: Tensor) => ({
  value: tf.matMul(a, b),
  gradFunc: (dy: Tensor) => [tf.matMul(dy, tf.transpose(b)), tf.matMul(tf.transpose(a), dy)],
})) as never) as unknown as (a: Tensor, b: Tensor) => Tensor;

const dense = tf.customGrad(((x: Tensor, w: Tensor, b: Tensor) => ({
  value: tf.add(tf.matMul(x, w), b),
  gradFunc: (dy: Tensor) => [tf.matMul(dy, tf.transpose(w)), tf.matMul(tf.transpose(x), dy), tf.sum(dy, 0)],
})) as never) as unknown as (x: Tensor, w: Tensor, b: Tensor) => Tensor;

const relu = tf.customGrad(((x: Tensor) => {
  const y = tf.relu(x);
  return { value: y, gradFunc: (dy: Tensor) => [reluMask(dy, x)] };
}) as never) as unknown as (x: Tensor) => Tensor;

// dy * (z > 0): gradient wrt dy is the same mask, wrt z is zero
const reluMask: (dy: Tensor, z: Tensor) => Tensor = tf.customGrad(((dy: Tensor, z: Tensor) => ({
  value: tf.mul(dy, tf.step(z)),
  gradFunc: (g: Tensor) => [reluMask(g, z), tf.zerosLike(z)],
})) as never) as unknown as (dy: Tensor, z: Tensor) => Tensor;

const bmm = (a: Tensor, b: Tensor, ta = false, tb = false) => tf.matMul(a, b, ta, tb);

export function fused(theta: Tensor[], batch: MetaBatch, alpha: number, dims: number[]) {
  const L = dims.length - 1;
  const [T, K] = batch.supportX.shape;
  const Q = batch.queryX.shape[1];
  const xs = tf.reshape(batch.supportX, [T * K, dims[0]]);
  const ys = tf.reshape(batch.supportY, [T * K, dims[L]]);
  const xq = tf.reshape(batch.queryX, [T * Q, dims[0]]);
  const yq = tf.reshape(batch.queryY, [T * Q, dims[L]]);
  let supportLoss: Tensor | undefined;
  const f = (...p: Tensor[]) => {
    const A: Tensor[] = [xs];
    const Z: Tensor[] = [];
    for (let l = 0; l < L; l++) {
      const z = dense(A[l], p[2 * l], p[2 * l + 1]);
      Z.push(z);
      if (l < L - 1) A.push(relu(z));
    }
    const E = tf.sub(Z[L - 1], ys);
    supportLoss = tf.keep(tf.mean(tf.reshape(tf.square(E), [T, K * dims[L]]), 1));
    const D: Tensor[] = new Array(L);
    D[L - 1] = tf.mul(E, (2 * alpha) / (K * dims[L]));
    for (let l = L - 2; l >= 0; l--) D[l] = reluMask(mm(D[l + 1], tf.transpose(p[2 * (l + 1)])), Z[l]);
    let H = xq;
    for (let l = 0; l < L; l++) {
      const din = dims[l], dout = dims[l + 1];
      const P = dense(H, p[2 * l], p[2 * l + 1]);
      const Ht = tf.reshape(H, [T, Q, din]);
      const At = tf.reshape(A[l], [T, K, din]);
      const Dt = tf.reshape(D[l], [T, K, dout]);
      let C: Tensor;
      if (din * dout * (K + Q) <= Q * K * (din + dout)) {
        const gW = bmm(At, Dt, true, false);
        const gb = tf.sum(Dt, 1, true);
        C = tf.add(bmm(Ht, gW), gb);
      } else {
        const G = tf.add(bmm(Ht, At, false, true), 1);
        C = bmm(G, Dt);
      }
      const z = tf.sub(P, tf.reshape(C, [T * Q, dout]));
      H = l < L - 1 ? relu(z) : z;
    }
    return tf.mean(tf.squaredDifference(H, yq)) as tf.Scalar;
  };
  const { value, grads } = tf.valueAndGrads(f)(theta);
  return { value, grads, supportLoss: supportLoss! };
}

async function main() {
  await initBackend('wasm');
  const model = new Mlp(mlpConfig.parse({}));
  const family = new SinusoidFamily();
  const source = new SinusoidSource();
  const mk = (i: number) => {
    const tasks = sampleTasks(family, { split: 'train', seed: 1, start: i * 25, count: 25 });
    return source.sample(tasks, { supportSize: 10, querySize: 10, seed: i });
  };
  const t = (h: { shape: readonly number[]; data: Float32Array | Int32Array }) => tf.tensor(h.data as Float32Array, h.shape as number[]);
  const params = model.init(0);
  // correctness check vs generic
  const hb = mk(3);
  const ref = metaGradientHost(new Maml(), model, params, hb, { steps: 1, learningRate: 0.01 });
  const out = tf.tidy(() => {
    const b = { supportX: t(hb.supportX), supportY: t(hb.supportY), queryX: t(hb.queryX), queryY: t(hb.queryY) };
    const theta = params.map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));
    const r = fused(theta, b, 0.01, [1, 40, 40, 1]);
    return [r.value, ...r.grads];
  });
  console.log('loss', ref.metaLoss, out[0].dataSync()[0]);
  out.slice(1).forEach((g, i) => {
    const a = g.dataSync(), r = ref.grads[i];
    let m = 0, s = 0;
    for (let j = 0; j < a.length; j++) { m = Math.max(m, Math.abs(a[j] - r[j])); s = Math.max(s, Math.abs(r[j])); }
    console.log('grad', i, 'maxdiff', m, 'scale', s);
  });
  const hbs = Array.from({ length: 20 }, (_, i) => mk(i));
  const step = (i: number) => {
    const hb = hbs[i % 20];
    const r = tf.tidy(() => {
      const b = { supportX: t(hb.supportX), supportY: t(hb.supportY), queryX: t(hb.queryX), queryY: t(hb.queryY) };
      const theta = params.map((v, i) => tf.tensor(v, model.spec[i].shape as number[]));
      const r = fused(theta, b, 0.01, [1, 40, 40, 1]);
      const o = [r.value, r.supportLoss, ...r.grads];
      r.supportLoss.dispose();
      return o;
    });
    r.forEach((x) => x.dataSync());
    tf.dispose(r);
  };
  for (let i = 0; i < 50; i++) step(i);
  const before = tf.memory().numTensors;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) step(i);
    console.log('fused it/s', (300 * 1000) / (performance.now() - t0), 'tensors', tf.memory().numTensors - before);
  }
  const prof = await tf.profile(() => { step(0); });
  const counts: Record<string, { n: number; ms: number }> = {};
  for (const k of prof.kernels) { const c = (counts[k.name] ??= { n: 0, ms: 0 }); c.n++; c.ms += k.kernelTimeMs as number; }
  console.log('kernels', prof.kernels.length, 'total ms', prof.kernels.reduce((s, k) => s + (k.kernelTimeMs as number), 0).toFixed(2));
  console.log(Object.entries(counts).sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => `${k} ${v.n} ${v.ms.toFixed(2)}`).join('\n'));
}
main();
