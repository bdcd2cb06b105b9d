/**
 * RoboSumo at reduced scale (Al-Shedivat et al. 2018, section 5.2, much smaller): a PPO policy
 * trained against a scripted pusher of random strength; Algorithm 1 on pairs of consecutive
 * opponent strengths (a scripted opponent that gets stronger round after round); then iterated
 * games of the meta-adapter, the PPO policy without adaptation and PPO tracking, each against a
 * LEARNING opponent (PPO tracking, starting from the same PPO policy). Used by continuous.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@chameleon/core';
import { StepType, VectorEnv, type TimeSteps } from '@chameleon/envs';
import { SumoEnvironment, SumoFamily, ensureMujoco, pushTowardOpponent, sumoEnvConfig } from '@chameleon/envs/src/mujoco';
import { initialState, optimiserConfig, type OptimiserState } from '@chameleon/meta';
import { StepSizePolicy, adaptWithLearnedStepSizes, advantageConfig, collectEpisodes, metaPairsConfig, metaPairsStep, splitByTask, stepSizePolicyConfig, type TrajectoryBatch, type VectorEnvLike } from '@chameleon/rl';
import { sampleTasks, type Task } from '@chameleon/tasks';
import { EpisodeRecorder, fixedPolicyAgent, metaAdapterAgent, ppoTrackingAgent, type Agent, type AgentContext, type CheckpointContent, type EpisodeRecord } from '@chameleon/agents';
import { batchReturn, mean, numberFlag, ppoUpdate } from './continuous-locomotion';
import { lineChart } from './continuous-svg';

export interface SumoRunOptions {
  readonly out: string;
  readonly runs: string;
  readonly flag: (name: string, fallback: string) => string;
  readonly log: (line: string) => void;
}

/** Opponent strengths along a "sequence": the scripted pusher's actions scaled by these. */
const STRENGTHS = [0.2, 0.4, 0.6, 0.8, 1.0];
const OBS = 98;
const ACT = 8;

/**
 * The agent's side of sumo matches as a single-agent vector env: world i is agent 0 of match i,
 * agent 1 plays the scripted pusher scaled by the match's strength.
 */
class AgainstScripted implements VectorEnvLike {
  readonly spec: VectorEnvLike['spec'];
  readonly numWorlds: number;
  private readonly pushers: Array<ReturnType<typeof pushTowardOpponent>>;
  private opponentObs = new Float32Array(0);
  private readonly t: Int32Array;
  wins = 0;
  losses = 0;
  matches = 0;

  constructor(private readonly venv: VectorEnv, private readonly strength: readonly number[], readonly horizon: number) {
    this.spec = venv.spec;
    this.numWorlds = venv.numWorlds / 2;
    this.pushers = strength.map(() => pushTowardOpponent('ant'));
    this.t = new Int32Array(this.numWorlds);
  }

  private split(ts: TimeSteps): TimeSteps {
    const n = this.numWorlds;
    const pick = <T extends Uint8Array | Float32Array>(a: T, make: (n: number) => T) => {
      const o = make(n);
      for (let i = 0; i < n; i++) o[i] = a[2 * i];
      return o;
    };
    const obs = new Float32Array(n * OBS);
    this.opponentObs = new Float32Array(n * OBS);
    for (let i = 0; i < n; i++) {
      obs.set(ts.observations.subarray(2 * i * OBS, (2 * i + 1) * OBS), i * OBS);
      this.opponentObs.set(ts.observations.subarray((2 * i + 1) * OBS, (2 * i + 2) * OBS), i * OBS);
      if (ts.stepTypes[2 * i] === StepType.FIRST) this.t[i] = 0;
      if (ts.stepTypes[2 * i] === StepType.LAST) {
        this.matches++;
        if ((ts.outcomes?.[2 * i] ?? 0) > 0) this.wins++;
        if ((ts.outcomes?.[2 * i] ?? 0) < 0) this.losses++;
      }
    }
    return { stepTypes: pick(ts.stepTypes, (k) => new Uint8Array(k)), rewards: pick(ts.rewards, (k) => new Float32Array(k)), discounts: pick(ts.discounts, (k) => new Float32Array(k)), observations: obs };
  }

  reset(): TimeSteps {
    return this.split(this.venv.reset());
  }

  step(actions: Float32Array): TimeSteps {
    const both = new Float32Array(2 * this.numWorlds * ACT);
    for (let i = 0; i < this.numWorlds; i++) {
      both.set(actions.subarray(i * ACT, (i + 1) * ACT), 2 * i * ACT);
      const a = this.pushers[i](this.opponentObs.subarray(i * OBS, (i + 1) * OBS), this.t[i]++);
      for (let j = 0; j < ACT; j++) both[(2 * i + 1) * ACT + j] = this.strength[i] * a[j];
    }
    return this.split(this.venv.step(both));
  }
}

export async function runSumo(o: SumoRunOptions): Promise<void> {
  await ensureMujoco();
  const { flag, log } = o;
  const horizon = Number(flag('sumo-horizon', '150'));
  const batch = Number(flag('sumo-batch', '4'));
  const K = Number(flag('sumo-episodes', '4'));
  const metaIterations = Number(flag('sumo-meta-iterations', '60'));
  const ppoIterations = Number(flag('sumo-ppo-iterations', '60'));
  const games = Number(flag('sumo-games', '8'));
  const rounds = Number(flag('sumo-rounds', '8'));
  const perRound = Number(flag('sumo-matches-per-round', '2'));
  // Learner settings (defaults: the first run's): initial action std, PPO's and Algorithm 1's
  // Adam learning rates, epochs and minibatches per iteration, alpha's start and GAE lambda.
  const positive = (name: string, fallback: string, integer = false) => numberFlag(flag, name, fallback, { integer });
  const initStd = positive('sumo-init-std', '0.5');
  const outputInitScale = positive('sumo-output-init-scale', '1');
  const ppoLr = positive('sumo-ppo-lr', '3e-3');
  const ppoEpochs = positive('sumo-ppo-epochs', '3', true);
  const ppoMinibatches = positive('sumo-minibatches', '1', true);
  const metaLr = positive('sumo-meta-lr', '3e-3');
  const metaEpochs = positive('sumo-meta-epochs', '3', true);
  const metaMinibatches = positive('sumo-meta-minibatches', '1', true);
  const initialAlpha = positive('sumo-initial-alpha', '0.05');
  const advantages = advantageConfig.parse({ lambda: Number(flag('gae-lambda', '1')) });
  const env = new SumoEnvironment(sumoEnvConfig.parse({ horizon }));
  const family = new SumoFamily();
  const policyConfig = stepSizePolicyConfig.parse({ observationSize: OBS, actionSize: ACT, hidden: [64, 64], initStd, outputInitScale, initialStepSize: initialAlpha });
  const policy = new StepSizePolicy(policyConfig);
  const t0 = performance.now();
  const load0 = loadavg()[0];

  /** K matches per opponent strength, task t's matches played with paramSets[t]. */
  const collect = (paramSets: readonly (readonly Float32Array[])[], strengths: readonly number[], seed: number) => {
    const worldTask = Array.from({ length: strengths.length * K }, (_, w) => Math.floor(w / K));
    const tasks: Task[] = sampleTasks(family, { split: 'train', seed, start: 0, count: worldTask.length });
    const venv = new VectorEnv(env, 2 * worldTask.length, tasks.flatMap((t) => [t, t]), seed, horizon);
    const wrapped = new AgainstScripted(venv, worldTask.map((t) => strengths[t]), horizon);
    try {
      const b = collectEpisodes(wrapped, (obs, n, rng) => policy.actRows(paramSets, worldTask, obs, n, rng), worldTask.length, horizon, Rng.fromKeys('act', seed), { taskOfWorld: worldTask });
      return { batches: splitByTask(b, strengths.length), winRate: wrapped.wins / Math.max(1, wrapped.matches) };
    } finally {
      venv.close();
    }
  };

  // PPO against random strengths (the no-adaptation policy, and where PPO tracking starts).
  const opt = optimiserConfig.parse({ learningRate: ppoLr, clipNorm: 1 });
  const P = policy.policyTensors;
  let ppo = policy.init(2);
  let ppoState: OptimiserState = initialState(opt, policy.spec.slice(0, P).map((p) => p.name), ppo.slice(0, P).map((p) => p.length));
  const ppoLog: Array<Record<string, number>> = [];
  for (let it = 0; it < ppoIterations; it++) {
    const rng = Rng.fromKeys('strengths', it);
    const strengths = Array.from({ length: 2 * batch }, () => STRENGTHS[Math.floor(rng.uniform(0, 1) * STRENGTHS.length)]);
    const { batches, winRate } = collect(strengths.map(() => ppo), strengths, 10_000 + it);
    ({ params: ppo, state: ppoState } = ppoUpdate(policy, ppo, batches, opt, ppoState, ppoEpochs, ppoMinibatches, advantages));
    ppoLog.push({ iteration: it, return: batchReturn(batches), winRate });
    if (it % 5 === 0) log(`sumo ppo ${it}: return ${batchReturn(batches).toFixed(0)}, win ${winRate.toFixed(2)}`);
  }
  const tPpo = (performance.now() - t0) / 1000;

  // Algorithm 1 on consecutive strengths (T_i, T_{i+1}).
  const config = metaPairsConfig.parse({ epochs: metaEpochs, minibatches: metaMinibatches, advantages, optimiser: { learningRate: metaLr, clipNorm: 1 } });
  let meta = policy.init(2);
  let metaState: OptimiserState | undefined;
  const metaLog: Array<Record<string, number>> = [];
  for (let it = 0; it < metaIterations; it++) {
    const rng = Rng.fromKeys('pairs', it);
    const first = Array.from({ length: batch }, () => Math.floor(rng.uniform(0, 1) * (STRENGTHS.length - 1)));
    const pre = collect(first.map(() => meta), first.map((i) => STRENGTHS[i]), 20_000 + 2 * it);
    const adapted = adaptWithLearnedStepSizes(policy, meta, pre.batches, advantages);
    const post = collect(adapted, first.map((i) => STRENGTHS[i + 1]), 20_001 + 2 * it);
    const r = metaPairsStep(policy, meta, pre.batches, post.batches as TrajectoryBatch[], config, metaState);
    meta = r.params;
    metaState = r.state;
    metaLog.push({ iteration: it, preReturn: batchReturn(pre.batches), postReturn: batchReturn(post.batches), preWin: pre.winRate, postWin: post.winRate, alpha: r.diagnostics.meanStepSize[0] });
    if (it % 5 === 0) log(`sumo meta ${it}: T_i ${batchReturn(pre.batches).toFixed(0)} (win ${pre.winRate.toFixed(2)}) -> T_i+1 ${batchReturn(post.batches).toFixed(0)} (win ${post.winRate.toFixed(2)}), alpha ${r.diagnostics.meanStepSize[0].toFixed(4)}`);
  }
  const tMeta = (performance.now() - t0) / 1000 - tPpo;

  const names = policy.spec.map((p) => p.name);
  const content: CheckpointContent = { policy: { architecture: 'gaussian-mlp-step-sizes', config: policyConfig as unknown as Record<string, unknown> }, params: { names, values: meta }, baseline: { names, values: ppo }, trainees: {}, config: {} };
  const ctx: AgentContext = { readCheckpoint: () => content, createPolicy: () => policy };
  const contenders: Record<string, Agent> = {
    'meta-adapter': metaAdapterAgent.create(metaAdapterAgent.configSchema.parse({ checkpoint: 'mem', recentEpisodes: perRound, gaeLambda: advantages.lambda }))(ctx),
    'no adaptation (PPO)': fixedPolicyAgent.create(fixedPolicyAgent.configSchema.parse({ checkpoint: 'mem', params: 'baseline' }))(ctx),
    'PPO tracking': ppoTrackingAgent.create(ppoTrackingAgent.configSchema.parse({ checkpoint: 'mem', params: 'baseline', gaeLambda: advantages.lambda }))(ctx),
  };
  const opponent = ppoTrackingAgent.create(ppoTrackingAgent.configSchema.parse({ checkpoint: 'mem', params: 'baseline', gaeLambda: advantages.lambda }))(ctx);
  const results: Record<string, { win: number[]; draw: number[]; loss: number[] }> = {};
  for (const [name, agent] of Object.entries(contenders)) {
    const byRound = { win: new Array<number>(rounds).fill(0), draw: new Array<number>(rounds).fill(0), loss: new Array<number>(rounds).fill(0) };
    for (let g = 0; g < games; g++) {
      const me = agent.session({ opponentId: `game-${g}`, seed: 100 + g });
      const them = opponent.session({ opponentId: name, seed: 200 + g });
      const tasks = sampleTasks(family, { split: 'test', seed: 5, start: g * rounds * perRound, count: rounds * perRound });
      for (let r = 0; r < rounds; r++) {
        const mine: EpisodeRecord[] = [];
        const theirs: EpisodeRecord[] = [];
        for (let m = 0; m < perRound; m++) {
          const [a, b, outcome] = playMatch(env, me, them, tasks[r * perRound + m], 300_000 + g * 1000 + r * 10 + m, horizon);
          mine.push(a);
          theirs.push(b);
          byRound[outcome > 0 ? 'win' : outcome < 0 ? 'loss' : 'draw'][r] += 1 / (games * perRound);
        }
        me.endRound(mine);
        them.endRound(theirs);
      }
      me.dispose();
      them.dispose();
    }
    results[name] = byRound;
    log(`sumo eval ${name}: win by round ${byRound.win.map((w) => w.toFixed(2)).join(' ')}`);
  }
  const tEval = (performance.now() - t0) / 1000 - tPpo - tMeta;
  mkdirSync(o.out, { recursive: true });
  const protocol = { horizon, batch, episodesPerTask: K, metaIterations, ppoIterations, games, rounds, matchesPerRound: perRound, strengths: STRENGTHS, hidden: [64, 64], initStd, outputInitScale, ppoLr, ppoEpochs, ppoMinibatches, metaLr, metaEpochs, metaMinibatches, initialAlpha, gaeLambda: advantages.lambda };
  writeFileSync(join(o.out, 'sumo.json'), `${JSON.stringify({ protocol, wallSeconds: { ppoTrain: tPpo, metaTrain: tMeta, evaluation: tEval }, loadAverageAtStart: load0, loadAverageAtEnd: loadavg()[0], ppoLog, metaLog, results }, null, 1)}\n`);
  writeFileSync(
    join(o.out, 'sumo-win-rate.svg'),
    lineChart(
      Object.entries(results).map(([name, r]) => ({ name, y: r.win })),
      Array.from({ length: rounds }, (_, r) => String(r + 1)),
      `RoboSumo vs a PPO-tracking opponent: win rate by round (${games} games x ${perRound} matches)`,
      'win rate',
      [0, 1],
    ),
  );
  log(`sumo done in ${((performance.now() - t0) / 1000).toFixed(0)} s; mean win rate ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([n, r]) => [n, mean(r.win).toFixed(3)])))}`);
}

/** One match: two sessions act on their own observations; returns both records and agent 0's outcome. */
function playMatch(env: SumoEnvironment, a: ReturnType<Agent['session']>, b: ReturnType<Agent['session']>, task: Task, seed: number, horizon: number): [EpisodeRecord, EpisodeRecord, number] {
  const venv = new VectorEnv(env, 2, [task, task], seed, horizon);
  const [ra, rb] = [new EpisodeRecorder(OBS, ACT), new EpisodeRecorder(OBS, ACT)];
  try {
    let ts = venv.reset();
    for (let t = 0; t < horizon; t++) {
      const oa = ts.observations.subarray(0, OBS);
      const ob = ts.observations.subarray(OBS, 2 * OBS);
      const x = a.act(oa);
      const y = b.act(ob);
      ra.acted(oa, x.action, x.logProb);
      rb.acted(ob, y.action, y.logProb);
      const both = new Float32Array(2 * ACT);
      both.set(x.action, 0);
      both.set(y.action, ACT);
      ts = venv.step(both);
      ra.rewarded(ts.rewards[0], ts.discounts[0]);
      rb.rewarded(ts.rewards[1], ts.discounts[1]);
      if (ts.stepTypes[0] === StepType.LAST) break;
    }
    const outcome = ts.outcomes?.[0] ?? 0;
    return [ra.take(outcome), rb.take(ts.outcomes?.[1] ?? 0), outcome];
  } finally {
    venv.close();
  }
}
