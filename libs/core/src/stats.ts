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
