import type { Tensor } from './tf';

/**
 * Largest |a - b| over the largest |b| (floor 1e-12): how far a computation is from a reference
 * of the same shape, scale-free. Tests of kernels and gradient paths compare with it.
 *
 * @example
 *   expect(maxRelError(fast, reference)).toBeLessThan(1e-5);
 */
export function maxRelError(a: Tensor, b: Tensor): number {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`maxRelError: shapes differ, [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  }
  const x = a.dataSync();
  const y = b.dataSync();
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return diff / scale;
}
