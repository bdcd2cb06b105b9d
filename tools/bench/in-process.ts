import { Rng } from '@chameleon/core';
import { SinusoidSource } from '@chameleon/envs';
import { initialState, Maml, metaGradientHost, optimiserConfig, optimiserStep } from '@chameleon/meta';
import { Mlp, mlpConfig } from '@chameleon/nn';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { PROTOCOL } from './setup';

/** Second- or first-order MAML, on the fused path (the default) or forced onto the generic one. */
export type Variant = 'maml-fused' | 'maml-generic' | 'fomaml-fused' | 'fomaml-generic';

export const algorithmFor = (v: Variant): Maml => new Maml({ firstOrder: v.startsWith('fomaml') }, { fused: v.endsWith('-fused') });

/** Milliseconds per iteration spent in each phase. */
export interface Phases {
  tasks: number;
  data: number;
  metaGradient: number;
  update: number;
}

/**
 * One meta-training loop exactly as the meta-optimiser runs it, minus gRPC: sample the
 * tasks, draw their data, meta-gradient on the learner's host entry point, Adam step.
 */
export function inProcessLoop(variant: Variant) {
  const p = PROTOCOL;
  const model = new Mlp(mlpConfig.parse(p.model));
  const maml = algorithmFor(variant);
  const family = new SinusoidFamily();
  const source = new SinusoidSource();
  const opt = optimiserConfig.parse({ learningRate: p.metaLearningRate });
  const names = model.spec.map((s) => s.name);
  let params = maml.init(model, p.seed);
  let state = initialState(opt, names, params.map((v) => v.length));
  let i = 0;
  const phases: Phases = { tasks: 0, data: 0, metaGradient: 0, update: 0 };
  const step = (): number => {
    let t = performance.now();
    const lap = (k: keyof Phases) => {
      const now = performance.now();
      phases[k] += now - t;
      t = now;
    };
    const tasks = sampleTasks(family, { split: 'train', seed: p.seed, start: i * p.tasks, count: p.tasks });
    lap('tasks');
    const batch = source.sample(tasks, { supportSize: p.support, querySize: p.query, seed: Rng.fromKeys('data', p.seed, 'meta-train', i).seed() });
    lap('data');
    const r = metaGradientHost(maml, model, params, batch, { steps: p.innerSteps, learningRate: p.innerLearningRate });
    lap('metaGradient');
    ({ params, state } = optimiserStep(opt, names, params, r.grads, state));
    lap('update');
    i++;
    return r.metaLoss;
  };
  return { step, phases, model, maml };
}

/** CPU seconds this process has used (all its threads), for rates that survive a busy machine. */
export const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** A rate both per wall-clock second and per CPU second of this process. */
export interface Rate {
  readonly itPerSec: number;
  readonly itPerCpuSec: number;
}

/** Iterations per second over `iterations` timed iterations of a warmed-up loop. */
export function timeLoop(step: () => number, iterations: number): Rate & { lastLoss: number } {
  let lastLoss = NaN;
  const [t0, c0] = [performance.now(), cpuSeconds()];
  for (let k = 0; k < iterations; k++) lastLoss = step();
  return { itPerSec: (iterations * 1000) / (performance.now() - t0), itPerCpuSec: iterations / (cpuSeconds() - c0), lastLoss };
}
