/** Mean, standard deviation and the half-width of the 95% confidence interval of the mean. */
export interface MeanCi {
  mean: number;
  std: number;
  ci95: number;
  n: number;
}

/** Normal-approximation 95% interval (1.96 standard errors), as in the MAML literature. */
export function meanCi95(values: ArrayLike<number>): MeanCi {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, ci95: NaN, n: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return { mean, std, ci95: (1.96 * std) / Math.sqrt(n), n };
}

/**
 * Per step, the metric's mean with its 95% interval and the paired change from step 0 on the
 * same tasks (mean and 95% interval of values[k][t] - values[0][t]): what adaptation changed,
 * free of the between-task spread that dominates the unpaired intervals.
 *
 * @example stepMetrics([Float32Array.of(1, 3), Float32Array.of(2, 4)])[1].changeMean === 1
 */
export function stepMetrics(perStep: readonly ArrayLike<number>[]): Array<{ step: number; mean: number; ci95: number; std: number; changeMean: number; changeCi95: number }> {
  return perStep.map((v, step) => {
    const m = meanCi95(v);
    const base = perStep[0];
    const change = step === 0 ? { mean: 0, ci95: 0 } : meanCi95(Float64Array.from({ length: v.length }, (_, t) => v[t] - base[t]));
    return { step, mean: m.mean, ci95: m.ci95, std: m.std, changeMean: change.mean, changeCi95: change.ci95 };
  });
}
