import { invalidArgument, unavailable } from '@chameleon/core';
import { Rng } from '@chameleon/core';
import type { EpisodeRef, StreamRolloutsRequest } from '@chameleon/proto';
import { fromWire, toWire } from '@chameleon/tensor';
import { unaryCall } from './client';
import type { Peers } from './peers';
import type { Episode, RolloutStats } from './rollouts';

const STEP_LAST = 3;

/**
 * Rollouts with learner-side inference: the simulator only steps worlds (CreateWorlds /
 * StepWorlds) and the learner's Act RPC chooses every action, batched over the worlds that
 * share parameters. For policies too large (or GPU-bound) to run next to the simulator.
 * Slower than StreamRollouts (two RPCs per step); episodes depend on the step seeds, not
 * only on (seed, task, episode), so a failed wave is re-run whole.
 */
export async function collectWithLearnerAct(peers: Peers, req: StreamRolloutsRequest): Promise<{ episodes: Map<string, Episode>; stats: RolloutStats }> {
  if (req.observeTask) throw invalidArgument('rollouts.inference', 'observe_task needs simulator-side inference');
  const sim = peers.simulators[0];
  const episodes = new Map<string, Episode>();
  const stats: RolloutStats = { streams: 0, failures: 0, lostReplicas: 0, lost: [] };
  const wave = Math.max(1, Math.min(req.parallelWorlds || 64, req.episodes.length));
  for (let start = 0; start < req.episodes.length; start += wave) {
    const refs = req.episodes.slice(start, start + wave);
    const n = refs.length;
    stats.streams++;
    const created = await unaryCall(sim, sim.createWorlds, { environment: req.environment, config: req.environmentConfig, numWorlds: n, tasks: refs.map((e) => req.tasks[e.task]), seed: Rng.fromKeys('act-wave', req.seed, start).seed() }, 'environment-simulator CreateWorlds');
    const id = created.worldSetId;
    try {
      const obsSize = (created.observationSpec?.shape ?? []).reduce((a, b) => a * b, 1);
      const actSize = (created.actionSpec?.shape ?? []).reduce((a, b) => a * b, 1);
      const horizon = req.horizon || created.maxEpisodeSteps;
      let ts = (await unaryCall(sim, sim.resetWorlds, { worldSetId: id, tasks: [] }, 'environment-simulator ResetWorlds')).timeSteps;
      const rows = refs.map(() => ({ obs: [] as number[], act: [] as number[], rew: [] as number[], logp: [] as number[], disc: [] as number[], final: new Float32Array(0), ret: 0, done: false }));
      const groups = new Map<number, number[]>();
      refs.forEach((e, w) => {
        const p = req.policyParams.length === 1 ? 0 : e.task;
        groups.set(p, [...(groups.get(p) ?? []), w]);
      });
      for (let t = 0; t < horizon && rows.some((r) => !r.done); t++) {
        const obs = fromWire(ts!.observations, 'observations', ['float32'] as const).data;
        const actions = new Float32Array(n * actSize);
        const logps = new Float32Array(n);
        for (const [p, worlds] of groups) {
          const o = new Float32Array(worlds.length * obsSize);
          worlds.forEach((w, k) => o.set(obs.subarray(w * obsSize, (w + 1) * obsSize), k * obsSize));
          const r = await peers.act({ policy: req.policy, params: req.policyParams[p], observations: toWire({ dtype: 'float32', shape: [worlds.length, obsSize], data: o }), deterministic: req.deterministic, seed: Rng.fromKeys('act', req.seed, start, t, p).seed() });
          const a = fromWire(r.actions, 'actions', ['float32'] as const).data;
          const l = fromWire(r.logProbs, 'log_probs', ['float32'] as const).data;
          worlds.forEach((w, k) => {
            actions.set(a.subarray(k * actSize, (k + 1) * actSize), w * actSize);
            logps[w] = l[k];
          });
        }
        const next = (await unaryCall(sim, sim.stepWorlds, { worldSetId: id, actions: toWire({ dtype: 'float32', shape: [n, actSize], data: actions }) }, 'environment-simulator StepWorlds')).timeSteps!;
        const types = fromWire(next.stepTypes, 'step_types', ['uint8'] as const).data;
        const rewards = fromWire(next.rewards, 'rewards', ['float32'] as const).data;
        const discounts = fromWire(next.discounts, 'discounts', ['float32'] as const).data;
        const after = fromWire(next.observations, 'observations', ['float32'] as const).data;
        rows.forEach((r, w) => {
          if (r.done) return;
          r.obs.push(...obs.subarray(w * obsSize, (w + 1) * obsSize));
          r.act.push(...actions.subarray(w * actSize, (w + 1) * actSize));
          r.rew.push(rewards[w]);
          r.logp.push(logps[w]);
          r.disc.push(discounts[w]);
          r.ret += rewards[w];
          if (types[w] === STEP_LAST) {
            r.done = true;
            r.final = after.slice(w * obsSize, (w + 1) * obsSize);
          }
        });
        ts = next;
      }
      rows.forEach((r, w) => {
        const ref: EpisodeRef = refs[w];
        episodes.set(`${ref.task}/${ref.episode}`, {
          ref,
          length: r.rew.length,
          episodeReturn: r.ret,
          observations: Float32Array.from(r.obs),
          actions: Float32Array.from(r.act),
          rewards: Float32Array.from(r.rew),
          logProbs: Float32Array.from(r.logp),
          discounts: Float32Array.from(r.disc),
          finalObservation: r.final,
        });
      });
    } finally {
      await unaryCall(sim, sim.closeWorlds, { worldSetId: id }, 'environment-simulator CloseWorlds').catch(() => undefined);
    }
  }
  if (episodes.size !== req.episodes.length) throw unavailable(`collected ${episodes.size} of ${req.episodes.length} episodes`);
  return { episodes, stats };
}
