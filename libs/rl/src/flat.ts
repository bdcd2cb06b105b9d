import type { Tensor } from '@chameleon/nn';

/**
 * Downloads `flat` (every task's parameters, concatenated task after task, each in the order
 * and sizes of `theta`) in one read, disposes it, and splits it into one parameter list per task.
 */
export function downloadPerTask(flat: Tensor, theta: readonly Float32Array[], tasks: number): Float32Array[][] {
  const host = flat.dataSync() as Float32Array;
  flat.dispose();
  const total = theta.reduce((s, p) => s + p.length, 0);
  return Array.from({ length: tasks }, (_, i) => {
    let off = i * total;
    return theta.map((p) => host.slice(off, (off += p.length)));
  });
}
