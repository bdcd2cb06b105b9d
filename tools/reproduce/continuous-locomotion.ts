/**
 * Nonstationary locomotion (Al-Shedivat et al. 2018, section 5.1) at reduced scale, in
 * process: Algorithm 1 on pairs (T_i, T_{i+1}) of nonstationary-ant sequences, a PPO policy
 * trained on the same number of environment steps (the "no adaptation" policy, which PPO
 * tracking also starts from), then every agent plugin played along held-out sequences
 * T_1 .. T_7. Used by continuous.ts.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Rng } from '@chameleon/core';
import { StepType, VectorEnv } from '@chameleon/envs';
import { NonstationaryLegsFamily, ensureMujoco, nonstationaryEnv, nonstationaryEnvConfig } from '@chameleon/envs/src/mujoco';
import { initialState, optimiserConfig, optimiserStep, type OptimiserConfig, type OptimiserState } from '@chameleon/meta';
import { tf, type Tensor } from '@chameleon/nn';
import {
  StepSizePolicy,
  adaptWithLearnedStepSizes,
  advantageConfig,
  collectEpisodes,
  disposeTasks,
  episodeReturns,
  flattenTensors,
  metaPairsConfig,
  metaPairsStep,
  paramTensors,
  ppoSurrogate,
  splitByTask,
  stepSizePolicyConfig,
  taskAdvantages,
  unflattenHost,
  uploadTasks,
  type AdvantageConfig,
  type TrajectoryBatch,
} from '@chameleon/rl';
import { samplePairs, sampleTasks, sequenceTasks, type Task } from '@chameleon/tasks';
import { EpisodeRecorder, type Agent, type EpisodeRecord } from '@chameleon/agents';

export interface LocomotionOptions {
  readonly horizon: number;
  /** Pairs (meta) or 2 x pairs tasks (PPO) per iteration. */
  readonly batch: number;
  /** Episodes per task per iteration. */
  readonly episodes: number;
  readonly metaIterations: number;
  /** Meta-training stops after this many minutes even short of metaIterations (0: no limit). */
  readonly metaMinutes: number;
  readonly ppoIterations: number;
  readonly hidden: number[];
  readonly seed: number;
  readonly log: (line: string) => void;
  /** Algorithm 1's outer Adam learning rate (default 3e-3) and epochs per iteration (default 3). */
  readonly metaLearningRate?: number;
  readonly metaEpochs?: number;
  /** PPO's Adam learning rate (default 3e-3) and epochs per iteration (default 3). */
  readonly ppoLearningRate?: number;
  readonly ppoEpochs?: number;
  /**
   * Optimiser steps per epoch for both learners, each on a share of the iteration's data: PPO's
   * tasks, Algorithm 1's pairs (default 1: the whole batch).
   */
  readonly minibatches?: number;
  /** Algorithm 1's optimiser steps per epoch when they differ from PPO's (default: minibatches). */
  readonly metaMinibatches?: number;
  /** Algorithm 1's early stop of its epochs (metaPairsConfig.targetKl; default none). */
  readonly metaTargetKl?: number;
  /** Algorithm 1's initial alpha (default 0.05). */
  readonly initialStepSize?: number;
  /** GAE lambda for both learners' advantages and Algorithm 1's inner step (default 1: Monte Carlo, MAML-RL). */
  readonly gaeLambda?: number;
  /**
   * Reward coefficients of nonstationary-ant when they differ from its defaults (rllab's, as
   * MAML-RL: survive 0.05, control 0.005); e.g. Gym Ant-v2's survive 1, control 0.5.
   */
  readonly reward?: { readonly surviveReward?: number; readonly ctrlCostCoeff?: number };
}

/** `--survive-reward R` and `--ctrl-cost C` of a command line, as LocomotionOptions.reward (absent flags keep the defaults). */
export function rewardFlags(args: readonly string[], flag: (name: string, fallback: string) => string): NonNullable<LocomotionOptions['reward']> {
  return {
    ...(args.includes('--survive-reward') ? { surviveReward: Number(flag('survive-reward', '')) } : {}),
    ...(args.includes('--ctrl-cost') ? { ctrlCostCoeff: Number(flag('ctrl-cost', '')) } : {}),
  };
}

/**
 * A numeric command-line flag, checked: finite, above `min` (or at least it with `orEqual`),
 * an integer when asked; otherwise an error naming the flag and the value given.
 */
export function numberFlag(flag: (name: string, fallback: string) => string, name: string, fallback: string, o: { min?: number; orEqual?: boolean; integer?: boolean } = {}): number {
  const raw = flag(name, fallback);
  const v = Number(raw);
  const min = o.min ?? 0;
  const ok = Number.isFinite(v) && (o.orEqual ? v >= min : v > min) && (!o.integer || Number.isInteger(v));
  if (!ok) throw new Error(`--${name} must be ${o.integer ? 'an integer' : 'a number'} ${o.orEqual ? '>=' : '>'} ${min}, got ${JSON.stringify(raw)}`);
  return v;
}

/** The advantage settings both learners use: MAML-RL's, with o.gaeLambda. */
export const locomotionAdvantages = (o: Pick<LocomotionOptions, 'gaeLambda'>) => advantageConfig.parse({ lambda: o.gaeLambda ?? 1 });

export const mean = (xs: ArrayLike<number>) => (xs.length ? Array.from(xs).reduce((a, b) => a + b, 0) / xs.length : 0);

/** Mean and a normal 95% interval over samples. */
export function ci(xs: readonly number[]) {
  const m = mean(xs);
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  const h = (1.96 * sd) / Math.sqrt(Math.max(1, xs.length));
  return { mean: m, lo: m - h, hi: m + h };
}

export async function setupLocomotion(o: LocomotionOptions) {
  await ensureMujoco();
  const family = new NonstationaryLegsFamily('ant');
  const env = nonstationaryEnv('ant', nonstationaryEnvConfig.parse({ horizon: o.horizon, ...(o.reward ?? {}) }));
  const policyConfig = stepSizePolicyConfig.parse({ observationSize: 83, actionSize: 8, hidden: o.hidden, initStd: 0.5, initialStepSize: o.initialStepSize ?? 0.05 });
  const policy = new StepSizePolicy(policyConfig);
  return { family, env, policy, policyConfig };
}
type Setup = Awaited<ReturnType<typeof setupLocomotion>>;

/** K episodes of each task, task t played with paramSets[t]. */
export function collect(s: Setup, o: LocomotionOptions, paramSets: readonly (readonly Float32Array[])[], tasks: readonly Task[], seed: number): TrajectoryBatch[] {
  const K = o.episodes;
  const worldTask = Array.from({ length: tasks.length * K }, (_, w) => Math.floor(w / K));
  const venv = new VectorEnv(s.env, worldTask.length, worldTask.map((t) => tasks[t]), seed, o.horizon);
  try {
    const batch = collectEpisodes(venv, (obs, n, rng) => s.policy.actRows(paramSets, worldTask, obs, n, rng), worldTask.length, o.horizon, Rng.fromKeys('act', seed), { taskOfWorld: worldTask });
    return splitByTask(batch, tasks.length);
  } finally {
    venv.close();
  }
}

export const batchReturn = (bs: readonly TrajectoryBatch[]) => mean(bs.map((b) => mean(episodeReturns(b))));

/** Environment steps actually taken in `bs` (real, unpadded transitions) and the episodes played. */
export function batchSteps(bs: readonly TrajectoryBatch[]) {
  let steps = 0;
  for (const b of bs) for (let i = 0; i < b.mask.length; i++) steps += b.mask[i];
  return { episodes: bs.reduce((a, b) => a + b.episodes, 0), envSteps: steps };
}

/**
 * Algorithm 1: returns the meta-learned parameter list (theta then alpha) and a log. `init`
 * (theta then alpha, e.g. a PPO policy with alpha at its initial value) replaces the random
 * initialisation; the outer Adam state always starts fresh.
 */
export function metaTrain(s: Setup, o: LocomotionOptions, init?: readonly Float32Array[]) {
  const config = metaPairsConfig.parse({ epochs: o.metaEpochs ?? 3, minibatches: o.metaMinibatches ?? o.minibatches ?? 1, advantages: locomotionAdvantages(o), optimiser: { learningRate: o.metaLearningRate ?? 3e-3, clipNorm: 1 }, ...(o.metaTargetKl ? { targetKl: o.metaTargetKl } : {}) });
  const adv = locomotionAdvantages(o);
  let params = init ? init.map((p) => p.slice()) : s.policy.init(o.seed);
  let state: OptimiserState | undefined;
  const log: Array<Record<string, number>> = [];
  const start = performance.now();
  for (let it = 0; it < o.metaIterations; it++) {
    if (o.metaMinutes > 0 && performance.now() - start > o.metaMinutes * 60_000) {
      o.log(`meta: time budget of ${o.metaMinutes} min reached after ${it} iterations`);
      break;
    }
    const t0 = performance.now();
    const pairs = samplePairs(s.family, { split: 'train', seed: o.seed, start: it * o.batch, count: o.batch });
    const pre = collect(s, o, pairs.map(() => params), pairs.map((p) => p[0]), o.seed * 1000 + 2 * it);
    const adapted = adaptWithLearnedStepSizes(s.policy, params, pre, adv);
    const post = collect(s, o, adapted, pairs.map((p) => p[1]), o.seed * 1000 + 2 * it + 1);
    const r = metaPairsStep(s.policy, params, pre, post, config, state);
    params = r.params;
    state = r.state;
    const a = batchSteps(pre);
    const b = batchSteps(post);
    const row = { iteration: it, preReturn: batchReturn(pre), postReturn: batchReturn(post), alpha: r.diagnostics.meanStepSize[0], kl: r.diagnostics.kl, epochs: r.diagnostics.epochs, episodes: a.episodes + b.episodes, envSteps: a.envSteps + b.envSteps, seconds: (performance.now() - t0) / 1000 };
    log.push(row);
    if (it % 5 === 0 || it === o.metaIterations - 1) o.log(`meta ${it}: T_i ${row.preReturn.toFixed(1)} -> T_i+1 adapted ${row.postReturn.toFixed(1)}, mean alpha ${row.alpha.toFixed(4)}, KL ${row.kl.toFixed(3)}, ${row.epochs} epochs, ${row.seconds.toFixed(1)} s`);
  }
  return { params, log };
}

/**
 * `epochs` passes of Adam steps on PPO's clipped surrogate on the policy part of `params` (alpha
 * untouched); each pass takes one step per minibatch (task j goes to minibatch j mod minibatches).
 */
export function ppoUpdate(
  policy: StepSizePolicy,
  params: Float32Array[],
  batches: readonly TrajectoryBatch[],
  opt: OptimiserConfig,
  state: OptimiserState,
  epochs = 3,
  minibatches = 1,
  adv: AdvantageConfig = advantageConfig.parse({}),
): { params: Float32Array[]; state: OptimiserState } {
  const P = policy.policyTensors;
  const names = policy.spec.slice(0, P).map((p) => p.name);
  const sizes = params.slice(0, P).map((p) => p.length);
  const data = uploadTasks(batches, taskAdvantages(batches, adv));
  try {
    for (let e = 0; e < epochs; e++) {
      for (let m = 0; m < Math.min(minibatches, data.length); m++) {
        const share = data.filter((_, j) => j % minibatches === m);
        const th = paramTensors(policy.base, params.slice(0, P));
        const flat = tf.tidy(() => {
          const { grads } = tf.valueAndGrads((...p: Tensor[]) => tf.neg(tf.div(tf.addN(share.map((d) => ppoSurrogate(policy.base.logProb(p, d.obs, d.actions), d.logProbs, d.advantages, undefined, 0.2))), share.length)) as tf.Scalar)(th);
          return flattenTensors(grads);
        });
        const g = unflattenHost(flat.dataSync() as Float32Array, sizes);
        tf.dispose([flat, ...th]);
        const next = optimiserStep(opt, names, params.slice(0, P), g, state);
        state = next.state;
        params = [...next.params, ...params.slice(P)];
      }
    }
    return { params, state };
  } finally {
    disposeTasks(data);
  }
}

/** Where a PPO run continues from: its parameters, Adam state and the next iteration index. */
export interface PpoResume {
  readonly params: readonly Float32Array[];
  readonly state: OptimiserState;
  readonly iteration: number;
}

/**
 * PPO on single tasks drawn from the sequences (no adaptation): 2 x batch tasks per iteration.
 * With `from`, continues that run (same parameters, Adam state, and the task/seed stream from
 * its next iteration), so a run of N then M iterations equals one of N + M. `progress` is
 * called every `every` iterations and after the last with where a run would resume from.
 */
export function ppoTrain(s: Setup, o: LocomotionOptions, iterations = o.ppoIterations, from?: PpoResume, progress?: (r: PpoResume, log: ReadonlyArray<Record<string, number>>) => void, every = 25) {
  const opt = optimiserConfig.parse({ learningRate: o.ppoLearningRate ?? 3e-3, clipNorm: 1 });
  const P = s.policy.policyTensors;
  let params = from ? from.params.map((p) => p.slice()) : s.policy.init(o.seed);
  let state = from?.state ?? initialState(opt, s.policy.spec.slice(0, P).map((p) => p.name), params.slice(0, P).map((p) => p.length));
  const first = from?.iteration ?? 0;
  const log: Array<Record<string, number>> = [];
  for (let it = first; it < first + iterations; it++) {
    const t0 = performance.now();
    const tasks = sampleTasks(s.family, { split: 'train', seed: o.seed + 1, start: it * 2 * o.batch, count: 2 * o.batch });
    const batches = collect(s, o, tasks.map(() => params), tasks, o.seed * 7919 + it);
    ({ params, state } = ppoUpdate(s.policy, params, batches, opt, state, o.ppoEpochs ?? 3, o.minibatches ?? 1, locomotionAdvantages(o)));
    const row = { iteration: it, return: batchReturn(batches), ...batchSteps(batches), seconds: (performance.now() - t0) / 1000 };
    log.push(row);
    if (it % 5 === 0 || it === first + iterations - 1) o.log(`ppo ${it}: return ${row.return.toFixed(1)}, ${row.seconds.toFixed(1)} s`);
    if (progress && ((it + 1 - first) % every === 0 || it === first + iterations - 1)) progress({ params, state, iteration: it + 1 }, log);
  }
  return { params, state, iteration: first + iterations, log };
}

/** What a warm-start file holds: where PPO resumes, its log so far and the settings it ran with. */
export interface WarmStartFile {
  readonly settings: Record<string, unknown>;
  readonly resume: PpoResume;
  readonly log: ReadonlyArray<Record<string, number>>;
  readonly seconds: number;
}

/** The settings a warm start depends on: resuming under others would mix two runs. */
export const warmSettings = (o: LocomotionOptions) => ({
  horizon: o.horizon,
  batch: o.batch,
  episodes: o.episodes,
  hidden: o.hidden,
  seed: o.seed,
  ppoLearningRate: o.ppoLearningRate ?? 3e-3,
  ppoEpochs: o.ppoEpochs ?? 3,
  minibatches: o.minibatches ?? 1,
  gaeLambda: o.gaeLambda ?? 1,
  reward: o.reward ?? {},
});

/** Writes a warm start atomically (a temporary file renamed over the old one). */
export function saveWarmStart(path: string, w: WarmStartFile): void {
  const plain = {
    settings: w.settings,
    resume: {
      iteration: w.resume.iteration,
      params: w.resume.params.map((p) => Array.from(p)),
      state: { name: w.resume.state.name, step: w.resume.state.step, slots: Object.fromEntries(Object.entries(w.resume.state.slots).map(([k, v]) => [k, Array.from(v)])) },
    },
    log: w.log,
    seconds: w.seconds,
  };
  writeFileSync(`${path}.tmp`, JSON.stringify(plain));
  renameSync(`${path}.tmp`, path);
}

/**
 * Reads a warm start written by {@link saveWarmStart}; undefined when there is none. Throws
 * when it was made with other settings (naming them), so a resumed run is one run.
 */
export function loadWarmStart(path: string, o: LocomotionOptions | undefined): WarmStartFile | undefined {
  if (!existsSync(path)) return undefined;
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  // Without options (a reader, not a resume), any settings are accepted.
  const want = (o ? warmSettings(o) : {}) as Record<string, unknown>;
  const differ = Object.keys(want).filter((k) => JSON.stringify(raw.settings?.[k]) !== JSON.stringify(want[k]));
  if (differ.length) throw new Error(`warm start ${path} was made with other settings (${differ.map((k) => `${k}: ${JSON.stringify(raw.settings?.[k])} there, ${JSON.stringify(want[k])} now`).join('; ')}); use the same flags, another --warm-file, or delete it`);
  const st = raw.resume.state;
  return {
    settings: raw.settings,
    resume: {
      iteration: raw.resume.iteration,
      params: raw.resume.params.map((p: number[]) => Float32Array.from(p)),
      state: { name: st.name, step: st.step, slots: Object.fromEntries(Object.entries(st.slots as Record<string, number[]>).map(([k, v]) => [k, Float32Array.from(v)])) },
    },
    log: raw.log,
    seconds: raw.seconds,
  };
}

/** One episode of `task` played by an agent session, recorded as the agent-server records it. */
export function playEpisode(s: Setup, agent: Agent, session: ReturnType<Agent['session']>, task: Task, seed: number, horizon: number): EpisodeRecord {
  const venv = new VectorEnv(s.env, 1, [task], seed, horizon);
  const rec = new EpisodeRecorder(agent.observationSize, agent.actionSize);
  try {
    let ts = venv.reset();
    for (let t = 0; t < horizon; t++) {
      const { action, logProb } = session.act(ts.observations, { reward: t === 0 ? 0 : ts.rewards[0], first: t === 0 });
      rec.acted(ts.observations, action, logProb);
      ts = venv.step(action);
      rec.rewarded(ts.rewards[0], ts.discounts[0]);
      if (ts.stepTypes[0] === StepType.LAST) break;
    }
    session.lastStep?.(ts.rewards[0]);
    return rec.take();
  } finally {
    venv.close();
  }
}

/**
 * Every agent along `sequences` held-out sequences T_1 .. T_L: `episodes` episodes per task,
 * then the agent's endRound (its adaptation) before the next task. Returns per agent the
 * mean return at each position, and per sequence.
 */
export function evaluateSequences(s: Setup, agents: Record<string, Agent>, sequences: number, episodes: number, horizon: number, seed: number, log: (l: string) => void) {
  const L = s.family.sequenceLength;
  const out: Record<string, { byPosition: number[][]; adaptMs: number[] }> = {};
  for (const [name, agent] of Object.entries(agents)) {
    const byPosition = Array.from({ length: L }, () => [] as number[]);
    const adaptMs: number[] = [];
    for (let k = 0; k < sequences; k++) {
      const tasks = sequenceTasks(s.family, 'test', seed, k);
      const session = agent.session({ opponentId: `sequence-${k}`, seed: seed * 31 + k });
      tasks.forEach((task, i) => {
        const eps = Array.from({ length: episodes }, (_, e) => playEpisode(s, agent, session, task, seed * 100_003 + k * 1000 + i * 10 + e, horizon));
        byPosition[i].push(mean(eps.map((e) => mean(e.rewards) * e.length)));
        const t0 = performance.now();
        session.endRound(eps);
        adaptMs.push(performance.now() - t0);
      });
      session.dispose();
    }
    out[name] = { byPosition, adaptMs };
    log(`eval ${name}: ${byPosition.map((r) => mean(r).toFixed(1)).join(' ')}`);
  }
  return out;
}

/**
 * One learner's finished training (`--phase meta` or `--phase ppo`), saved so that the two
 * learners can train in separate processes (one core each) and `--phase evaluate` can play
 * them afterwards. `protocol` is the run's settings; evaluation refuses files made under others.
 */
export interface PhaseFile {
  readonly learner: 'meta' | 'ppo';
  readonly protocol: Record<string, unknown>;
  readonly params: readonly Float32Array[];
  readonly log: ReadonlyArray<Record<string, number>>;
  readonly seconds: number;
}

/** Settings two phases of one run may differ in: budgets and counts (and the log function). */
const PHASE_FREE = new Set(['metaIterations', 'metaMinutes', 'ppoIterations', 'log']);

/** Writes a phase file atomically. */
export function savePhase(path: string, p: PhaseFile): void {
  writeFileSync(`${path}.tmp`, JSON.stringify({ ...p, params: p.params.map((x) => Array.from(x)) }));
  renameSync(`${path}.tmp`, path);
}

/**
 * Reads the phase file of `learner`; throws, saying which phase to run, when it is missing, and
 * naming the settings that differ when it was made under another protocol.
 */
export function loadPhase(path: string, learner: 'meta' | 'ppo', protocol: Record<string, unknown>): PhaseFile {
  if (!existsSync(path)) throw new Error(`${path} does not exist: run this command with --phase ${learner} first (or --phase all)`);
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  if (raw.learner !== learner) throw new Error(`${path} holds the ${String(raw.learner)} learner, not ${learner}`);
  const keys = [...new Set([...Object.keys(raw.protocol), ...Object.keys(protocol)])].filter((k) => !PHASE_FREE.has(k));
  const differ = keys.filter((k) => JSON.stringify(raw.protocol[k]) !== JSON.stringify(protocol[k]));
  if (differ.length) {
    throw new Error(`${path} was trained with other settings (${differ.map((k) => `${k}: ${JSON.stringify(raw.protocol[k])} there, ${JSON.stringify(protocol[k])} now`).join('; ')}); use the same flags or another --runs`);
  }
  return { learner, protocol: raw.protocol, params: raw.params.map((x: number[]) => Float32Array.from(x)), log: raw.log, seconds: raw.seconds };
}
