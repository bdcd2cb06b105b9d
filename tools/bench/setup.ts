/**
 * The protocol of the benchmark (Finn et al. 2017, sinusoid regression) and the run config
 * the services measurement starts: the same settings, with everything that is not
 * meta-training (baseline, validation, evaluation) switched off.
 */
export const PROTOCOL = {
  tasks: 25,
  support: 10,
  query: 10,
  innerSteps: 1,
  innerLearningRate: 0.01,
  metaLearningRate: 0.001,
  seed: 1,
  model: { inputSize: 1, hidden: [40, 40], outputSize: 1, activation: 'relu' as const },
};

/** A chameleon run config (the YAML of `chameleon train`) for `iterations` meta-iterations. */
export function runConfig(algorithm: 'maml' | 'fomaml', iterations: number): Record<string, unknown> {
  const p = PROTOCOL;
  return {
    name: `bench-${algorithm}`,
    seed: p.seed,
    task: { family: 'sinusoid' },
    model: { architecture: 'mlp', config: p.model },
    algorithm: { name: algorithm },
    inner: { steps: p.innerSteps, learningRate: p.innerLearningRate },
    meta: { iterations, batchSize: p.tasks, optimiser: { name: 'adam', learningRate: p.metaLearningRate } },
    data: { supportSize: p.support, querySize: p.query },
    checkpoint: { every: 500 },
    validation: { every: 0, tasks: 50 },
    baseline: { iterations: 0 },
    evaluation: { enabled: false },
  };
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
