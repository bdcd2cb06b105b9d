import { z } from 'zod';
import { failedPrecondition } from '@chameleon/core';

/** Outer-loop optimiser settings. */
export const optimiserConfig = z
  .object({
    /** "adam" (default, as in MAML) or "sgd". */
    name: z.enum(['adam', 'sgd']).default('adam'),
    /** Meta step size beta. Default 0.001. */
    learningRate: z.number().positive().default(0.001),
    /** Adam beta1. Default 0.9. */
    beta1: z.number().min(0).max(0.999999).default(0.9),
    /** Adam beta2. Default 0.999. */
    beta2: z.number().min(0).max(0.99999999).default(0.999),
    /** Adam epsilon. Default 1e-8. */
    epsilon: z.number().positive().default(1e-8),
    /** Clip the meta-gradient to this global L2 norm; 0 disables. Default 0. */
    clipNorm: z.number().min(0).default(0),
  })
  .strict();
export type OptimiserConfig = z.infer<typeof optimiserConfig>;

/** Optimiser state: named slot arrays (Adam's "m/<param>" and "v/<param>") and a step count. */
export interface OptimiserState {
  readonly name: 'adam' | 'sgd';
  readonly step: number;
  readonly slots: Readonly<Record<string, Float32Array>>;
}

export function initialState(config: OptimiserConfig, names: readonly string[], sizes: readonly number[]): OptimiserState {
  const slots: Record<string, Float32Array> = {};
  if (config.name === 'adam') {
    names.forEach((n, i) => {
      slots[`m/${n}`] = new Float32Array(sizes[i]);
      slots[`v/${n}`] = new Float32Array(sizes[i]);
    });
  }
  return { name: config.name, step: 0, slots };
}

/** Global L2 norm of a gradient list. */
export function globalNorm(grads: readonly Float32Array[]): number {
  let ss = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  return Math.sqrt(ss);
}

/**
 * One optimiser step on host arrays, pure: returns new parameters and state and leaves
 * the inputs untouched. A non-finite gradient is refused (FAILED_PRECONDITION) so that a
 * diverged step never overwrites good parameters.
 *
 * @example
 *   let state = initialState(cfg, names, sizes);
 *   ({ params, state } = optimiserStep(cfg, names, params, grads, state));
 */
export function optimiserStep(
  config: OptimiserConfig,
  names: readonly string[],
  params: readonly Float32Array[],
  grads: readonly Float32Array[],
  state: OptimiserState,
): { params: Float32Array[]; state: OptimiserState; gradNorm: number } {
  const norm = globalNorm(grads);
  if (!Number.isFinite(norm)) {
    throw failedPrecondition(`the meta-gradient is not finite (norm ${norm}) at optimiser step ${state.step + 1}; lower the meta or inner learning rate, or set optimiser.clipNorm`);
  }
  const scale = config.clipNorm > 0 && norm > config.clipNorm ? config.clipNorm / norm : 1;
  const step = state.step + 1;
  if (config.name === 'sgd') {
    const next = params.map((p, i) => {
      const out = new Float32Array(p.length);
      const g = grads[i];
      for (let j = 0; j < p.length; j++) out[j] = p[j] - config.learningRate * scale * g[j];
      return out;
    });
    return { params: next, state: { name: 'sgd', step, slots: {} }, gradNorm: norm };
  }
  const { beta1, beta2, epsilon, learningRate } = config;
  const c1 = 1 - beta1 ** step;
  const c2 = 1 - beta2 ** step;
  const slots: Record<string, Float32Array> = {};
  const next = params.map((p, i) => {
    const m0 = state.slots[`m/${names[i]}`];
    const v0 = state.slots[`v/${names[i]}`];
    const m = new Float32Array(p.length);
    const v = new Float32Array(p.length);
    const out = new Float32Array(p.length);
    const g = grads[i];
    for (let j = 0; j < p.length; j++) {
      const gj = g[j] * scale;
      m[j] = beta1 * m0[j] + (1 - beta1) * gj;
      v[j] = beta2 * v0[j] + (1 - beta2) * gj * gj;
      out[j] = p[j] - (learningRate * (m[j] / c1)) / (Math.sqrt(v[j] / c2) + epsilon);
    }
    slots[`m/${names[i]}`] = m;
    slots[`v/${names[i]}`] = v;
    return out;
  });
  return { params: next, state: { name: 'adam', step, slots }, gradNorm: norm };
}
