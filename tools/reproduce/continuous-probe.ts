/**
 * `node -r @swc-node/register tools/reproduce/continuous-probe.ts --ckpt PATH [--seed 99]
 *   [--sequences 24] [--variants meta-fixed,meta-a1,...] [--gae-lambda 1] [--warm FILE --legs N]
 *   [--survive-reward R] [--ctrl-cost C]` (the reward the checkpoint was trained with)
 *
 * Does the eq. 9 step help a trained locomotion checkpoint (continuous.ts --part locomotion)?
 * Plays nonstationary-ant sequences T_1..T_7 (200-step episodes, 3 per task) that neither
 * learner trained on nor the reported evaluation uses (split "train", seed 99 by default;
 * training used seeds 1 and 2, the report split "test" seed 7) with variants of Algorithm 2:
 *   <base>-fixed   no adaptation (base = meta: the checkpoint's theta and alpha; ppo: its
 *                  baseline policy with alpha 0.05)
 *   <base>-a<c>    eq. 9 from theta with alpha x c on the last 3 episodes
 *   <base>-noIS    importance weights replaced by 1
 *   <base>-cap1    importance weights truncated at 1
 *   <base>-K6      the last 6 episodes (this task's and the previous task's)
 * and prints each variant's mean return over T_2..T_7 with its paired difference from
 * meta-fixed (95% intervals over sequences). With `--legs N` it instead measures what the
 * nonstationarity costs a fixed policy: N episodes of T_1 (scale 1) and of T_7 (the two legs
 * paralysed) of every sequence for theta and for the PPO policy, and their paired difference
 * (with `--warm FILE`, for the PPO policy of a warm-start file written by continuous.ts).
 * Diagnostic: see docs/results/continuous-adaptation.md.
 */
import { initBackend, tf, type Tensor } from '@chameleon/nn';
import { createRegistry } from '@chameleon/builtins';
import { Rng } from '@chameleon/core';
import { metaAdapterParts, rowsWithAdvantages, type Agent, type EpisodeRecord } from '@chameleon/agents';
import type { Policy } from '@chameleon/rl';
import { agentContext } from '../../apps/agent-server/src/context';
import { sequenceTasks } from '@chameleon/tasks';
import { evaluateSequences, loadWarmStart, mean, ci, playEpisode, rewardFlags, setupLocomotion } from './continuous-locomotion';

const args = process.argv.slice(2);
const flag = (n: string, f: string) => { const i = args.indexOf(`--${n}`); return i >= 0 ? args[i + 1] : f; };
const ckptPath = flag('ckpt', '/tmp/ca-lr2-runs/nonstationary-ant.ckpt');
const split = flag('seed', '99');
const warmPath = flag('warm', '');
const lambda = Number(flag('gae-lambda', '1'));

/**
 * eq. 9 with M = 1: theta + alpha (.) grad mean(w * log pi_theta * A), the weights w = min(ratio, cap)
 * held constant (cap Infinity: plain importance weights, the gradient of importanceSurrogate at
 * theta; cap 0: every weight 1).
 */
function update(policy: Policy, theta: readonly Float32Array[], alpha: ReadonlyArray<Float32Array | number>, eps: readonly EpisodeRecord[], cap: number): Float32Array[] {
  const rows = rowsWithAdvantages(eps, policy.observationSize, policy.actionSize, { gamma: 0.99, lambda });
  const out = tf.tidy(() => {
    const th = theta.map((v, i) => tf.tensor(v, policy.spec[i].shape as number[]));
    const obs = tf.tensor2d(rows.observations, [rows.n, policy.observationSize]);
    const act = tf.tensor2d(rows.actions, [rows.n, policy.actionSize]);
    const lp0 = policy.logProb(th, obs, act);
    const w = cap === 0 ? tf.onesLike(lp0) : tf.minimum(tf.exp(tf.sub(lp0, tf.tensor1d(rows.logProbs))), cap);
    const wa = tf.mul(w, tf.tensor1d(rows.advantages));
    const { grads } = tf.valueAndGrads((...p: Tensor[]) => tf.mean(tf.mul(policy.logProb(p, obs, act), wa)) as tf.Scalar)(th);
    return th.map((t, i) => { const a = alpha[i]; const s = typeof a === 'number' ? tf.scalar(a) : a.length === 1 ? tf.scalar(a[0]) : tf.tensor(a, policy.spec[i].shape as number[]); return tf.add(t, tf.mul(s, grads[i])); });
  });
  const v = out.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(out);
  return v.every((x) => x.every(Number.isFinite)) ? v : theta.map((t) => t.slice());
}

function variant(acting: Policy, theta: Float32Array[], alpha: ReadonlyArray<Float32Array | number>, scale: number, K: number, cap: number): Agent {
  const a = alpha.map((x) => (typeof x === 'number' ? x * scale : x.map((v) => v * scale)));
  return {
    kind: 'agent', name: 'v', description: '', observationSize: acting.observationSize, actionSize: acting.actionSize,
    session: ({ seed }) => {
      const rng = Rng.fromKeys('agent', seed);
      let phi = theta;
      let recent: EpisodeRecord[] = [];
      return {
        act: (obs) => { const r = acting.act(phi, obs, 1, rng, false); return { action: r.actions, logProb: r.logProbs[0] }; },
        endRound: (episodes) => {
          recent = [...recent, ...episodes].slice(-K);
          phi = update(acting, theta, a, recent, cap);
          return { episodesUsed: recent.length };
        },
        dispose: () => undefined,
      };
    },
  };
}

(async () => {
  await initBackend('wasm');
  const reward = rewardFlags(args, flag);
  const s = await setupLocomotion({ horizon: 200, batch: 6, episodes: 3, metaIterations: 0, metaMinutes: 0, ppoIterations: 0, hidden: [64, 64], seed: 1, log: () => undefined, reward });
  const ctx = agentContext(createRegistry(), { adaptationWorkers: 0 });
  // --warm: a warm-start file's PPO policy (alpha at 0.05) stands for both theta and the PPO policy.
  const warm = warmPath ? loadWarmStart(warmPath, undefined) : undefined;
  const c = warm ? undefined : ctx.readCheckpoint(ckptPath);
  const policy: Policy = c ? ctx.createPolicy(c.policy.architecture, c.policy.config) : s.policy;
  const meta = metaAdapterParts(policy, c ? c.params.values : [...warm!.resume.params], new Map(), 0.05);
  const ppo = metaAdapterParts(policy, c ? c.baseline!.values : [...warm!.resume.params], new Map(), 0.05);
  if (warm) console.log(`warm start ${warmPath}: ${warm.resume.iteration} PPO iterations`);
  const alphaMeta = meta.alpha[0] as ReadonlyArray<Float32Array | number>;
  const seqs = Number(flag('sequences', '24'));
  const legs = Number(flag('legs', '0'));
  if (legs > 0) {
    for (const [name, p] of [['meta theta', meta], ['PPO', ppo]] as const) {
      const agent = variant(p.acting, p.theta, [], 0, 1, Infinity);
      const first: number[] = [];
      const last: number[] = [];
      for (let k = 0; k < seqs; k++) {
        const tasks = sequenceTasks(s.family, 'train', Number(split), k);
        const session = agent.session({ opponentId: `legs-${k}`, seed: k });
        const play = (i: number) => mean(Array.from({ length: legs }, (_, e) => { const ep = playEpisode(s, agent, session, tasks[i], Number(split) * 100_003 + k * 1000 + i * 10 + e, 200); return mean(ep.rewards) * ep.length; }));
        first.push(play(0));
        last.push(play(tasks.length - 1));
      }
      const [a, b, d] = [ci(first), ci(last), ci(last.map((x, k) => x - first[k]))];
      console.log(`${name}: T1 ${a.mean.toFixed(2)} [${a.lo.toFixed(1)}, ${a.hi.toFixed(1)}], T7 ${b.mean.toFixed(2)} [${b.lo.toFixed(1)}, ${b.hi.toFixed(1)}], T7 - T1 ${d.mean.toFixed(2)} [${d.lo.toFixed(1)}, ${d.hi.toFixed(1)}] (${seqs} sequences x ${legs} episodes)`);
      // By the pair of legs paralysed (legs 0-3 of the ant: see libs/envs/src/mujoco/models/legged.ts).
      const byPair = new Map<string, number[]>();
      for (let k = 0; k < seqs; k++) {
        const pair = JSON.stringify(sequenceTasks(s.family, 'train', Number(split), k)[0].params.legs);
        byPair.set(pair, [...(byPair.get(pair) ?? []), last[k] - first[k]]);
      }
      console.log(`  T7 - T1 by pair: ${[...byPair].sort().map(([p, xs]) => `${p} ${mean(xs).toFixed(1)} (n=${xs.length})`).join(', ')}`);
    }
    return;
  }
  const agents: Record<string, Agent> = {};
  const which = flag('variants', 'meta-fixed,meta-a1,meta-a0.5,meta-a0.25,meta-noIS,meta-cap1,meta-K6,ppo-fixed,ppo-a1,ppo-a0.25').split(',');
  for (const w of which) {
    const [base, v] = w.split('-');
    const p = base === 'meta' ? meta : ppo;
    const al = base === 'meta' ? alphaMeta : p.alpha[0] as ReadonlyArray<Float32Array | number>;
    if (v === 'fixed') agents[w] = variant(p.acting, p.theta, al, 0, 3, Infinity);
    else if (v.startsWith('a')) agents[w] = variant(p.acting, p.theta, al, Number(v.slice(1)), 3, Infinity);
    else if (v === 'noIS') agents[w] = variant(p.acting, p.theta, al, 1, 3, 0);
    else if (v === 'cap1') agents[w] = variant(p.acting, p.theta, al, 1, 3, 1);
    else if (v === 'K6') agents[w] = variant(p.acting, p.theta, al, 1, 6, Infinity);
    else throw new Error(`unknown variant ${w}`);
  }
  const ev = evaluateSequences(s, agents, seqs, 3, 200, Number(split), (l) => console.log(l));
  const ref = ev['meta-fixed'] ?? Object.values(ev)[0];
  const after = (r: typeof ref) => Array.from({ length: seqs }, (_, k) => mean(r.byPosition.slice(1).map((p) => p[k])));
  for (const [n, r] of Object.entries(ev)) {
    const a = ci(after(r));
    const d = ci(after(r).map((x, k) => x - after(ref)[k]));
    console.log(`${n.padEnd(12)} T2..T7 ${a.mean.toFixed(2)} [${a.lo.toFixed(1)}, ${a.hi.toFixed(1)}]  minus meta-fixed ${d.mean.toFixed(2)} [${d.lo.toFixed(1)}, ${d.hi.toFixed(1)}]`);
  }
})();
