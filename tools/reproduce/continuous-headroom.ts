/**
 * `node -r @swc-node/register tools/reproduce/continuous-headroom.ts --ckpt PATH [--iterations 40]
 *   [--position 6] [--eval-episodes 24] [--seed 99] [--gae-lambda 0.95]
 *   [--survive-reward R] [--ctrl-cost C]` (the reward the checkpoint was trained with)
 *
 * How much is there to gain by adapting to nonstationary-ant's drift? For each pair of legs
 * the family can weaken, takes the task at `--position` of a sequence with that pair (6: T_7,
 * both legs paralysed) and fine-tunes the checkpoint's PPO policy (its `baseline`) on that one
 * task with PPO for `--iterations` iterations (each 12 x 3 episodes of it; Adam 3e-4, 10
 * epochs x 12 minibatches, fresh moments). It prints the return of `--eval-episodes` episodes
 * before and after (the same episode seeds, so the difference is paired), and the same for T_1
 * of the pair as the reference (with --position 0, T_1 itself: a control for gains that are not
 * specific to the legs). What the specialist wins back is the part of the drift's cost that a
 * policy made for those legs can recover, the prize an adaptation from 3 episodes aims at.
 * Diagnostic: see docs/results/continuous-adaptation.md.
 */
import { initBackend } from '@chameleon/nn';
import { createRegistry } from '@chameleon/builtins';
import { initialState, optimiserConfig } from '@chameleon/meta';
import { episodeReturns } from '@chameleon/rl';
import { sequenceTasks, type Task } from '@chameleon/tasks';
import { agentContext } from '../../apps/agent-server/src/context';
import { ci, collect, locomotionAdvantages, mean, numberFlag, ppoUpdate, rewardFlags, setupLocomotion, type LocomotionOptions } from './continuous-locomotion';

const args = process.argv.slice(2);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
const flag = (n: string, f: string) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : f;
};

(async () => {
  await initBackend('wasm');
  const ckptPath = flag('ckpt', '');
  if (!ckptPath) throw new Error('--ckpt PATH is required: a checkpoint written by continuous.ts --part locomotion');
  const iterations = numberFlag(flag, 'iterations', '40', { integer: true });
  const position = numberFlag(flag, 'position', '6', { integer: true, orEqual: true });
  const evalEpisodes = numberFlag(flag, 'eval-episodes', '24', { integer: true });
  const seed = numberFlag(flag, 'seed', '99', { integer: true, orEqual: true });
  const o: LocomotionOptions = {
    horizon: 200, batch: 6, episodes: 3, metaIterations: 0, metaMinutes: 0, ppoIterations: 0, hidden: [64, 64], seed: 1,
    log: (l) => console.log(l), gaeLambda: numberFlag(flag, 'gae-lambda', '0.95', { orEqual: true }), reward: rewardFlags(args, flag),
  };
  const s = await setupLocomotion(o);
  if (position >= s.family.sequenceLength) throw new Error(`--position must be below the sequence length ${s.family.sequenceLength}, got ${position}`);
  const c = agentContext(createRegistry(), { adaptationWorkers: 0 }).readCheckpoint(ckptPath);
  if (!c.baseline) throw new Error(`${ckptPath} has no baseline (PPO) parameters`);
  const ppo0 = c.baseline.values.map((v) => Float32Array.from(v));
  // One sequence per pair of legs, from a stream neither learner trained on.
  const byPair = new Map<string, Task[]>();
  for (let k = 0; byPair.size < 6 && k < 200; k++) {
    const tasks = sequenceTasks(s.family, 'train', seed, k);
    const key = JSON.stringify(tasks[0].params.legs);
    if (!byPair.has(key)) byPair.set(key, tasks);
  }
  // evalEpisodes episodes of `task` with `params`: evalEpisodes / 3 task copies x 3 episodes, fixed seeds.
  const evaluate = (params: readonly Float32Array[], task: Task, evalSeed: number) => {
    const copies = Math.ceil(evalEpisodes / o.episodes);
    return mean(collect(s, o, Array.from({ length: copies }, () => params), Array.from({ length: copies }, () => task), evalSeed).flatMap((b) => Array.from(episodeReturns(b))));
  };
  const opt = optimiserConfig.parse({ learningRate: 3e-4, clipNorm: 1 });
  const P = s.policy.policyTensors;
  const rows: Array<{ pair: string; t1: number; before: number; after: number }> = [];
  for (const [pair, tasks] of [...byPair].sort()) {
    const task = tasks[position];
    const evalSeed = 424_242 + rows.length;
    const t1 = evaluate(ppo0, tasks[0], evalSeed);
    const before = evaluate(ppo0, task, evalSeed);
    let params: Float32Array[] = ppo0.map((p) => p.slice());
    let state = initialState(opt, s.policy.spec.slice(0, P).map((p) => p.name), params.slice(0, P).map((p) => p.length));
    const curve: number[] = [];
    for (let it = 0; it < iterations; it++) {
      const batches = collect(s, o, Array.from({ length: 2 * o.batch }, () => params), Array.from({ length: 2 * o.batch }, () => task), 77_000 + 1000 * rows.length + it);
      curve.push(mean(batches.flatMap((b) => Array.from(episodeReturns(b)))));
      ({ params, state } = ppoUpdate(s.policy, params, batches, opt, state, 10, 12, locomotionAdvantages(o)));
    }
    const after = evaluate(params, task, evalSeed);
    rows.push({ pair, t1, before, after });
    console.log(`legs ${pair} (scale ${Number(task.params.scale).toFixed(2)}): T1 ${t1.toFixed(1)}, robust PPO ${before.toFixed(1)}, specialised ${after.toFixed(1)} (${signed(after - before)}); training returns ${curve.slice(0, 5).map((x) => x.toFixed(0)).join(' ')} ... ${curve.slice(-5).map((x) => x.toFixed(0)).join(' ')}`);
  }
  const gain = ci(rows.map((r) => r.after - r.before));
  console.log(`mean over ${rows.length} pairs: T1 ${mean(rows.map((r) => r.t1)).toFixed(1)}, robust PPO ${mean(rows.map((r) => r.before)).toFixed(1)}, specialised ${mean(rows.map((r) => r.after)).toFixed(1)}, gain ${gain.mean.toFixed(1)} [${gain.lo.toFixed(1)}, ${gain.hi.toFixed(1)}] (${iterations} iterations of ${2 * o.batch * o.episodes} episodes each, ${evalEpisodes} evaluation episodes)`);
})().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
