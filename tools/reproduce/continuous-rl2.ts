/**
 * `npm run reproduce:continuous -- --part rl2` (see continuous.ts): the RL^2 baseline on
 * nonstationary-ant at reduced scale. Trials = one episode of each of the 7 tasks of a training
 * sequence, played by the `rl2` agent itself (GRU state kept across the episodes); PPO over the
 * trials (rl2PpoStep, backpropagation through whole trials); then the agent along the same
 * held-out sequences as the other agents (3 episodes per task, its state kept throughout).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { GruPolicy, gruPolicyConfig, rl2PpoConfig, rl2PpoStep, type Rl2Episode } from '@chameleon/rl';
import { sequenceTasks } from '@chameleon/tasks';
import { rl2Agent, type AgentContext } from '@chameleon/agents';
import type { OptimiserState } from '@chameleon/meta';
import { ci, evaluateSequences, locomotionAdvantages, mean, playEpisode, setupLocomotion, type LocomotionOptions } from './continuous-locomotion';

export async function runRl2(o: LocomotionOptions & { minutes: number; sequences: number; out: string; runs: string; rl2LearningRate?: number; rl2Epochs?: number }) {
  const s = await setupLocomotion(o);
  const config = gruPolicyConfig.parse({ observationSize: 83, actionSize: 8, hidden: 64, initStd: 0.5 });
  const policy = new GruPolicy(config);
  let params = policy.init(o.seed);
  const names = policy.spec.map((p) => p.name);
  const ctxFor = (values: Float32Array[]): AgentContext => ({
    readCheckpoint: () => ({ policy: { architecture: 'rl2-gru', config: config as unknown as Record<string, unknown> }, params: { names, values }, trainees: {}, config: {} }),
    createPolicy: () => {
      throw new Error('unused');
    },
  });
  const ppo = rl2PpoConfig.parse({ epochs: o.rl2Epochs ?? 3, optimiser: { learningRate: o.rl2LearningRate ?? 3e-3, clipNorm: 1 }, advantages: locomotionAdvantages(o) });
  let state: OptimiserState | undefined;
  const log: Array<Record<string, number>> = [];
  const t0 = performance.now();
  const load0 = loadavg()[0];
  for (let it = 0; performance.now() - t0 < o.minutes * 60_000 && it < o.metaIterations; it++) {
    const t1 = performance.now();
    const agent = rl2Agent.create(rl2Agent.configSchema.parse({ checkpoint: 'mem' }))(ctxFor(params));
    const trials: Rl2Episode[][] = Array.from({ length: o.batch }, (_, b) => {
      const k = it * o.batch + b;
      const session = agent.session({ opponentId: `trial-${k}`, seed: k });
      return sequenceTasks(s.family, 'train', o.seed + 2, k).map((task, i) => playEpisode(s, agent, session, task, 50_000 + k * 10 + i, o.horizon));
    });
    const r = rl2PpoStep(policy, params, trials, ppo, state);
    params = r.params;
    state = r.state;
    const ret = mean(trials.map((t) => mean(t.map((e) => e.rewards.reduce((a, b) => a + b, 0)))));
    log.push({ iteration: it, return: ret, seconds: (performance.now() - t1) / 1000 });
    if (it % 5 === 0) o.log(`rl2 ${it}: trial return per episode ${ret.toFixed(1)}, ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }
  const tTrain = (performance.now() - t0) / 1000;
  const agent = rl2Agent.create(rl2Agent.configSchema.parse({ checkpoint: 'mem' }))(ctxFor(params));
  const ev = evaluateSequences(s, { 'RL^2': agent }, o.sequences, o.episodes, o.horizon, 7, o.log)['RL^2'];
  const summary = {
    byPosition: ev.byPosition.map(ci),
    afterFirst: ci(Array.from({ length: o.sequences }, (_, k) => mean(ev.byPosition.slice(1).map((p) => p[k])))),
  };
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, 'locomotion-rl2.json'), `${JSON.stringify({ protocol: { ...o, log: undefined, trialsPerIteration: o.batch, episodesPerTaskInTraining: 1 }, iterations: log.length, wallSeconds: { train: tTrain, evaluation: (performance.now() - t0) / 1000 - tTrain }, loadAverage: [load0, loadavg()[0]], log, summary, raw: ev.byPosition }, null, 1)}\n`);
  o.log(`rl2 done: ${log.length} iterations, T2..T7 ${summary.afterFirst.mean.toFixed(2)}`);
}
