import { tf } from '@chameleon/nn';

export interface KernelProfile {
  /** Kernels the engine runs per iteration (forward, backward and bookkeeping). */
  readonly kernels: number;
  /** Their summed run time per iteration (ms); the rest of an iteration is JavaScript and engine overhead. */
  readonly kernelMs: number;
  /** The most expensive kernels by time per iteration: name, count, ms. */
  readonly top: Array<{ name: string; count: number; ms: number }>;
}

/**
 * Profiles `iterations` calls of `step` (one meta-iteration each) kernel by kernel and
 * averages per iteration: a single iteration is too noisy on a shared machine.
 */
export async function profileKernels(step: () => void, iterations = 20, top = 8): Promise<KernelProfile> {
  const byName = new Map<string, { count: number; ms: number }>();
  let kernels = 0;
  for (let i = 0; i < iterations; i++) {
    const info = await tf.profile(step);
    kernels += info.kernels.length;
    for (const k of info.kernels) {
      const e = byName.get(k.name) ?? { count: 0, ms: 0 };
      e.count++;
      e.ms += Number(k.kernelTimeMs) || 0;
      byName.set(k.name, e);
    }
  }
  const rows = [...byName]
    .map(([name, e]) => ({ name, count: e.count / iterations, ms: +(e.ms / iterations).toFixed(3) }))
    .sort((a, b) => b.ms - a.ms);
  return { kernels: kernels / iterations, kernelMs: +rows.reduce((s, r) => s + r.ms, 0).toFixed(3), top: rows.slice(0, top) };
}
