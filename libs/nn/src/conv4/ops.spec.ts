import { maxRelError } from '../compare';
import { initBackend } from '../backend';
import { tf, type Tensor } from '../tf';
import { batchNorm, conv2d, type Pads } from './ops';
import { maxPool2x2, poolGather, poolScatter } from './pool';

beforeAll(async () => {
  await initBackend('wasm');
});

/** The convolution as im2col + matMul from tfjs ops, all twice differentiable on wasm. */
function referenceConv(x: Tensor, w: Tensor, [t, b, l, r]: Pads): Tensor {
  const [n, h, wd, c] = x.shape;
  const [kh, kw, , o] = w.shape;
  const xp = tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]);
  const [ho, wo] = [h + t + b - kh + 1, wd + l + r - kw + 1];
  const parts: Tensor[] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) parts.push(tf.slice(xp, [0, i, j, 0], [n, ho, wo, c]));
  const patches = tf.reshape(tf.concat(parts, 3), [n * ho * wo, kh * kw * c]);
  return tf.reshape(tf.matMul(patches, tf.reshape(w, [kh * kw * c, o])), [n, ho, wo, o]);
}

/**
 * Value, gradient and a second derivative of f: the gradient of
 * <r2, d/dx sum(r1 f)> + <r3, d/dw sum(r1 f)> with respect to (x, w).
 */
function derivatives(f: (x: Tensor, w: Tensor) => Tensor, x: Tensor, w: Tensor): Tensor[] {
  const y = f(x, w);
  const r1 = tf.randomNormal(y.shape, 0, 1, 'float32', 1);
  const r2 = tf.randomNormal(x.shape, 0, 1, 'float32', 2);
  const r3 = tf.randomNormal(w.shape, 0, 1, 'float32', 3);
  const first = (a: Tensor, b: Tensor) => tf.grads((p: Tensor, q: Tensor) => tf.sum(tf.mul(r1, f(p, q))))([a, b]);
  const second = tf.grads((a: Tensor, b: Tensor) => {
    const [gx, gw] = first(a, b);
    return tf.add(tf.sum(tf.mul(r2, gx)), tf.sum(tf.mul(r3, gw)));
  })([x, w]);
  return [y, ...first(x, w), ...second];
}

// float32 sums of up to ~600 products in another order: 1e-5 relative in practice; 1e-4
// leaves margin and still catches any indexing or padding error (those are O(1)).
const TOL = 1e-4;

describe('conv2d (twice differentiable)', () => {
  const cases: Array<[string, number[], number[], Pads]> = [
    ['3x3 same', [2, 6, 5, 3], [3, 3, 3, 4], [1, 1, 1, 1]],
    ['3x3 valid', [2, 6, 6, 2], [3, 3, 2, 3], [0, 0, 0, 0]],
    ['3x3 asymmetric', [1, 5, 7, 2], [3, 3, 2, 2], [2, 0, 1, 2]],
    ['2x4 kernel, one input channel', [3, 6, 6, 1], [2, 4, 1, 3], [1, 0, 2, 1]],
  ];

  it.each(cases)('%s: value, gradients and second derivatives equal the im2col reference', (_name, xs, ws, pads) => {
    tf.tidy(() => {
      const x = tf.randomNormal(xs, 0, 1, 'float32', 4);
      const w = tf.randomNormal(ws, 0, 1, 'float32', 5);
      const got = derivatives((a, b) => conv2d(a, b, pads), x, w);
      const want = derivatives((a, b) => referenceConv(a, b, pads), x, w);
      got.forEach((g, i) => expect(maxRelError(g, want[i])).toBeLessThan(TOL));
    });
  });

  it('equals tf.conv2d "same" and skips the input gradient of a first layer', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 7, 7, 1], 0, 1, 'float32', 6) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, 1, 4], 0, 1, 'float32', 7) as tf.Tensor4D;
      expect(maxRelError(conv2d(x, w, [1, 1, 1, 1], false), tf.conv2d(x, w, 1, 'same'))).toBeLessThan(1e-6);
      const [gx, gw] = tf.grads((a: Tensor, b: Tensor) => tf.sum(conv2d(a, b, [1, 1, 1, 1], false)))([x, w]);
      expect(tf.max(tf.abs(gx)).dataSync()[0]).toBe(0);
      const [, want] = tf.grads((a: Tensor, b: Tensor) => tf.sum(referenceConv(a, b, [1, 1, 1, 1])))([x, w]);
      expect(maxRelError(gw, want)).toBeLessThan(TOL);
    });
  });
});

/** Values on a grid spaced 0.05 apart in random order: no two elements of a window tie. */
function separated(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const order = tf.util.createShuffledIndices(n);
  const rng = tf.randomUniform([1], 0, 1, 'float32', seed).dataSync()[0];
  const v = Float32Array.from(order, (k) => (k - n / 2) * 0.05 + rng * 0.01);
  return tf.tensor(v, shape);
}

describe('maxPool2x2 (twice differentiable)', () => {
  // The reference is the cpu backend's MaxPool gradient: wasm's MaxPoolGrad kernel is wrong
  // for some windows (it sent the gradient of 8 of 72 windows nowhere in this very test).
  it.each([[[2, 6, 6, 3]], [[1, 7, 5, 2]]])('equals tf.maxPool and the cpu backend\'s gradient of it, shape %j', async (shape) => {
    const x = separated(shape, 1);
    const r = tf.randomNormal([shape[0], shape[1] >> 1, shape[2] >> 1, shape[3]], 0, 1, 'float32', 2);
    expect(maxRelError(maxPool2x2(x), tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'))).toBe(0);
    const got = tf.grad((a: Tensor) => tf.sum(tf.mul(r, maxPool2x2(a))))(x).dataSync();
    const [xv, rv] = [x.dataSync(), r.dataSync()];
    await tf.setBackend('cpu');
    const want = tf.tidy(() => tf.grad((a: Tensor) => tf.sum(tf.mul(tf.tensor(rv, r.shape), tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'))))(tf.tensor(xv, shape)).dataSync());
    await tf.setBackend('wasm');
    expect(Array.from(got)).toEqual(Array.from(want));
    const other = tf.tidy(() => tf.grad((a: Tensor) => tf.sum(tf.mul(r, maxPool2x2(a))))(x).dataSync());
    expect(Array.from(other)).toEqual(Array.from(got));
  });

  it('scatter and gather are adjoint: <scatter(dy, x), g> = <dy, gather(g, x)>', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 3);
      const dy = tf.randomNormal([2, 3, 3, 3], 0, 1, 'float32', 4);
      const g = tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 5);
      const lhs = tf.sum(tf.mul(poolScatter(dy, x), g)).dataSync()[0];
      const rhs = tf.sum(tf.mul(dy, poolGather(g, x))).dataSync()[0];
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4);
    });
  });

  it('has the exact Hessian-vector product of sum(r * pool(x)^2): matches central differences of the gradient', () => {
    tf.tidy(() => {
      const x = separated([2, 6, 6, 2], 3);
      const r = tf.randomNormal([2, 3, 3, 2], 0, 1, 'float32', 4);
      const v = tf.randomNormal(x.shape, 0, 1, 'float32', 5);
      const grad = (a: Tensor) => tf.grad((b: Tensor) => tf.sum(tf.mul(r, tf.square(maxPool2x2(b)))))(a);
      const hvp = tf.grad((a: Tensor) => tf.sum(tf.mul(v, grad(a))))(x);
      // The gradient is linear in x inside a region of fixed argmax; eps * |v| << 0.05 stays in it.
      const eps = 1e-3;
      const fd = tf.div(tf.sub(grad(tf.add(x, tf.mul(eps, v))), grad(tf.sub(x, tf.mul(eps, v)))), 2 * eps);
      expect(maxRelError(hvp, fd)).toBeLessThan(1e-2);
      expect(tf.max(tf.abs(hvp)).dataSync()[0]).toBeGreaterThan(0.1);
    });
  });
});

describe('batchNorm (transductive, per group)', () => {
  it('equals tf.batchNorm with each group\'s own moments', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([6, 4, 4, 3], 2, 3, 'float32', 1);
      const gamma = tf.tensor1d([1, 2, 0.5]);
      const beta = tf.tensor1d([0, -1, 3]);
      const got = batchNorm(x, gamma, beta, 2, 1e-3);
      const want = tf.concat([0, 1].map((g) => {
        const part = tf.slice(x, [3 * g, 0, 0, 0], [3, -1, -1, -1]) as tf.Tensor4D;
        const { mean, variance } = tf.moments(part, [0, 1, 2]);
        return tf.batchNorm(part, mean, variance, beta, gamma, 1e-3);
      }), 0);
      expect(maxRelError(got, want)).toBeLessThan(1e-5);
    });
  });

  it('has second derivatives that match central differences (smooth in x, gamma and beta)', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([4, 3, 3, 2], 0, 1, 'float32', 2);
      const gamma = tf.tensor1d([1.5, 0.7]);
      const beta = tf.tensor1d([0.1, -0.2]);
      const r = tf.randomNormal(x.shape, 0, 1, 'float32', 3);
      // f(x) = <r, bn(x)^3>: gradient g(x); compare the directional derivative of <v, g> with FD.
      const g = (a: Tensor) => tf.grad((b: Tensor) => tf.sum(tf.mul(r, tf.pow(batchNorm(b, gamma, beta, 2, 1e-3), 3))))(a);
      const v = tf.randomNormal(x.shape, 0, 1, 'float32', 4);
      const u = tf.randomNormal(x.shape, 0, 1, 'float32', 5);
      const analytic = tf.sum(tf.mul(u, tf.grad((a: Tensor) => tf.sum(tf.mul(v, g(a))))(x))).dataSync()[0];
      const eps = 1e-2;
      const h = (s: number) => tf.sum(tf.mul(v, g(tf.add(x, tf.mul(s, u))))).dataSync()[0];
      const fd = (h(eps) - h(-eps)) / (2 * eps);
      expect(Math.abs(analytic - fd)).toBeLessThan(1e-2 * Math.max(1, Math.abs(fd)));
    });
  });
});
