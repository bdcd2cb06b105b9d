/**
 * `npm run reproduce:continuous -- [--part locomotion|sumo|rl2|all] [--meta-iterations N]
 *   [--meta-minutes M] [--ppo-iterations N] [--warm-start-ppo W] [--meta-lr LR] [--meta-epochs E]
 *   [--ppo-lr LR] [--ppo-epochs E] [--minibatches N] [--meta-minibatches N] [--meta-target-kl KL]
 *   [--initial-alpha A] [--gae-lambda L] [--warm-file F] [--phase all|warm|meta|ppo|evaluate]
 *   [--survive-reward R] [--ctrl-cost C]
 *   [--horizon H] [--batch B] [--episodes K] [--sequences S] [--out DIR]
 *   [--rl2-minutes M] [--rl2-iterations N] [--rl2-trials T] [--rl2-lr LR] [--rl2-epochs E]
 *   [--sumo-ppo-iterations N] [--sumo-meta-iterations N] [--sumo-games G] [--sumo-rounds R]
 *   [--sumo-init-std S] [--sumo-output-init-scale F] [--sumo-ppo-lr LR] [--sumo-ppo-epochs E] [--sumo-minibatches N]
 *   [--sumo-meta-lr LR] [--sumo-meta-epochs E] [--sumo-meta-minibatches N] [--sumo-initial-alpha A]`
 *
 * Continuous adaptation via meta-learning (Al-Shedivat et al. 2018) at reduced scale, in
 * process (see docs/results/continuous-adaptation.md for the protocol and what it shows):
 *   locomotion: Algorithm 1 on nonstationary-ant pairs; a PPO policy on the same environment
 *     steps; then meta-adapter (eq. 9 with the learned alpha), no adaptation and PPO tracking
 *     along held-out sequences T_1 .. T_7, return per position.
 *     With --warm-start-ppo W: PPO first trains W iterations from scratch; Algorithm 1 then
 *     starts from that theta (alpha at its initial value) and PPO continues from the same
 *     parameters and Adam state for as many iterations as Algorithm 1 completed (both use
 *     2 x batch x episodes episodes per iteration, so equal total environment steps). The
 *     warm start is saved every 25 iterations to --warm-file (default
 *     <runs>/nonstationary-ant-warm-start.json) and resumed from it: a rerun with the same
 *     settings and a larger W continues it.
 *     --phase splits the run across processes: warm (the warm start only), then meta and ppo
 *     (each learner alone, saved to <runs>/nonstationary-ant-meta.json / -ppo.json; run them at
 *     once, one core each, with a fixed --meta-iterations N, --meta-minutes 0 and
 *     --ppo-iterations N), then evaluate (plays the saved learners); all (default) does it all.
 *   rl2: the RL^2 baseline (a GRU policy trained with PPO over whole trials) from scratch for
 *     --rl2-minutes, with the same reward flags and --gae-lambda, evaluated on the same sequences.
 *   sumo: iterated RoboSumo games against a learning (PPO-tracking) opponent; win rate by round.
 * Writes <out>/continuous-<part>.json, SVG plots and a checkpoint (agents load it by path).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { initBackend } from '@chameleon/nn';
import { paramsToWire } from '@chameleon/tensor';
import { CHECKPOINT_FORMAT_VERSION, saveCheckpoint } from '@chameleon/transport';
import { fixedPolicyAgent, metaAdapterAgent, ppoTrackingAgent, type AgentContext, type CheckpointContent } from '@chameleon/agents';
import { ci, evaluateSequences, loadPhase, loadWarmStart, mean, metaTrain, numberFlag, ppoTrain, rewardFlags, savePhase, saveWarmStart, setupLocomotion, warmSettings, type LocomotionOptions, type PpoResume } from './continuous-locomotion';
import { lineChart, trainingChart } from './continuous-svg';
import { runSumo } from './continuous-sumo';
import { runRl2 } from './continuous-rl2';

const root = resolve(__dirname, '../..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const part = flag('part', 'all');
const out = resolve(flag('out', join(root, 'docs/results/continuous-adaptation')));
const runs = resolve(flag('runs', join(root, 'runs/continuous')));
const log = (l: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${l}`);


/** An in-memory context (what the agent-server builds from a checkpoint file). */
export function memoryContext(content: CheckpointContent, createPolicy: AgentContext['createPolicy']): AgentContext {
  return { readCheckpoint: () => content, createPolicy };
}

/** W PPO iterations from scratch, resumed from and saved to `file` as they train. */
function warmStartPpo(s: Awaited<ReturnType<typeof setupLocomotion>>, o: LocomotionOptions, iterations: number, file: string) {
  mkdirSync(dirname(file), { recursive: true });
  const saved = loadWarmStart(file, o);
  const done = saved?.resume.iteration ?? 0;
  if (done > iterations) throw new Error(`warm start ${file} already has ${done} iterations, more than --warm-start-ppo ${iterations}; pass at least ${done} or another --warm-file`);
  if (saved) log(`warm start: resuming ${file} at iteration ${done}`);
  const t0 = performance.now();
  const earlier = saved?.log ?? [];
  const seconds = () => (saved?.seconds ?? 0) + (performance.now() - t0) / 1000;
  const save = (resume: PpoResume, rows: ReadonlyArray<Record<string, number>>) => saveWarmStart(file, { settings: warmSettings(o), resume, log: [...earlier, ...rows], seconds: seconds() });
  const run = ppoTrain(s, o, iterations - done, saved?.resume, save);
  return { params: run.params, state: run.state, iteration: run.iteration, log: [...earlier, ...run.log], seconds: seconds() };
}

async function locomotion() {
  const o: LocomotionOptions = {
    horizon: Number(flag('horizon', '100')),
    batch: Number(flag('batch', '6')),
    episodes: Number(flag('episodes', '3')),
    metaIterations: Number(flag('meta-iterations', '120')),
    metaMinutes: Number(flag('meta-minutes', '0')),
    ppoIterations: Number(flag('ppo-iterations', flag('meta-iterations', '120'))),
    hidden: [64, 64],
    seed: 1,
    log,
    metaLearningRate: Number(flag('meta-lr', '3e-3')),
    metaEpochs: Number(flag('meta-epochs', '3')),
    ppoLearningRate: Number(flag('ppo-lr', '3e-3')),
    ppoEpochs: Number(flag('ppo-epochs', '3')),
    minibatches: Number(flag('minibatches', '1')),
    metaMinibatches: Number(flag('meta-minibatches', flag('minibatches', '1'))),
    metaTargetKl: numberFlag(flag, 'meta-target-kl', '0', { orEqual: true }),
    initialStepSize: Number(flag('initial-alpha', '0.05')),
    gaeLambda: Number(flag('gae-lambda', '1')),
    reward: rewardFlags(args, flag),
  };
  const warmStart = Number(flag('warm-start-ppo', '0'));
  // The warm start is saved as it trains and resumed from this file, so an interrupted run loses at most 25 iterations.
  const warmFile = resolve(flag('warm-file', join(runs, 'nonstationary-ant-warm-start.json')));
  const sequences = Number(flag('sequences', '10'));
  // --phase: all (default) runs everything in this process; warm, meta, ppo and evaluate split
  // it, so the two learners can train at once in two processes (one core each).
  const phase = flag('phase', 'all');
  const phases = ['all', 'warm', 'meta', 'ppo', 'evaluate'];
  if (!phases.includes(phase)) throw new Error(`--phase must be one of ${phases.join(', ')}, got ${JSON.stringify(phase)}`);
  const protocol = { ...o, log: undefined, warmStartPpoIterations: warmStart } as Record<string, unknown>;
  const metaFile = join(runs, 'nonstationary-ant-meta.json');
  const ppoFile = join(runs, 'nonstationary-ant-ppo.json');
  const s = await setupLocomotion(o);
  const load0 = loadavg()[0];
  if (warmStart > 0 && phase !== 'all' && phase !== 'warm') {
    // Two processes must not both train (and write) the warm start.
    const done = loadWarmStart(warmFile, o)?.resume.iteration ?? 0;
    if (done < warmStart) throw new Error(`warm start ${warmFile} has ${done} of ${warmStart} iterations: run this command with --phase warm first`);
  }
  // Warm start: W PPO iterations from scratch, the common starting point of both learners.
  const warm = warmStart > 0 ? warmStartPpo(s, o, warmStart, warmFile) : undefined;
  const tWarm = warm ? warm.seconds : 0;
  if (warm) log(`warm start: ${warm.log.length} PPO iterations in ${tWarm.toFixed(0)} s; Algorithm 1 and PPO continue from them`);
  if (phase === 'warm') return;
  mkdirSync(runs, { recursive: true });
  const t0 = performance.now();
  let meta: { params: readonly Float32Array[]; log: ReadonlyArray<Record<string, number>>; seconds: number } | undefined;
  if (phase === 'all' || phase === 'meta') {
    const m = metaTrain(s, o, warm?.params);
    meta = { ...m, seconds: (performance.now() - t0) / 1000 };
    savePhase(metaFile, { learner: 'meta', protocol, ...meta });
    log(`meta: ${meta.log.length} iterations saved to ${metaFile}`);
    if (phase === 'meta') return;
  }
  let ppo: typeof meta;
  if (phase === 'all' || phase === 'ppo') {
    const t1 = performance.now();
    // The same environment steps as the meta-learner used (it may have stopped on its time budget),
    // continuing the warm-start run if there is one. Alone (--phase ppo) it runs --ppo-iterations.
    const p = ppoTrain(s, o, meta ? Math.min(o.ppoIterations, meta.log.length) : o.ppoIterations, warm);
    ppo = { params: p.params, log: p.log, seconds: (performance.now() - t1) / 1000 };
    savePhase(ppoFile, { learner: 'ppo', protocol, ...ppo });
    log(`ppo: ${ppo.log.length} iterations saved to ${ppoFile}`);
    if (phase === 'ppo') return;
  }
  meta ??= loadPhase(metaFile, 'meta', protocol);
  ppo ??= loadPhase(ppoFile, 'ppo', protocol);
  if (ppo.log.length !== meta.log.length) log(`warning: Algorithm 1 ran ${meta.log.length} iterations and PPO ${ppo.log.length}: environment steps differ (see envSteps)`);
  const tMeta = meta.seconds;
  const tPpo = ppo.seconds;
  const tEval0 = performance.now();
  const names = s.policy.spec.map((p) => p.name);
  const shapes = s.policy.spec.map((p) => [...p.shape]);
  const content: CheckpointContent = {
    policy: { architecture: 'gaussian-mlp-step-sizes', config: s.policyConfig as unknown as Record<string, unknown> },
    params: { names, values: [...meta.params] },
    baseline: { names, values: [...ppo.params] },
    trainees: {},
    config: { protocol } as unknown as Record<string, unknown>,
  };
  const ckptPath = join(runs, 'nonstationary-ant.ckpt');
  saveCheckpoint(ckptPath, {
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    runId: 'reproduce-continuous-ant',
    config: { protocol } as unknown as Record<string, unknown>,
    phase: 'done',
    iteration: meta.log.length,
    params: paramsToWire(names, shapes, meta.params),
    optimiser: undefined,
    baselineIteration: ppo.log.length,

    baselineParams: paramsToWire(names, shapes, ppo.params),
    baselineOptimiser: undefined,
    model: { architecture: 'gaussian-mlp-step-sizes', config: s.policyConfig as unknown as Record<string, unknown> },
    backend: 'wasm',
    createdUnixMs: Date.now(),
    trainees: [],
  });
  log(`checkpoint ${ckptPath}`);
  const ctx = memoryContext(content, () => s.policy);
  const K = o.episodes;
  const agents = {
    'meta-adapter': metaAdapterAgent.create(metaAdapterAgent.configSchema.parse({ checkpoint: 'mem', recentEpisodes: K, gaeLambda: o.gaeLambda }))(ctx),
    'no adaptation (PPO)': fixedPolicyAgent.create(fixedPolicyAgent.configSchema.parse({ checkpoint: 'mem', params: 'baseline' }))(ctx),
    'PPO tracking': ppoTrackingAgent.create(ppoTrackingAgent.configSchema.parse({ checkpoint: 'mem', params: 'baseline', gaeLambda: o.gaeLambda }))(ctx),
    'meta theta, no adaptation': fixedPolicyAgent.create(fixedPolicyAgent.configSchema.parse({ checkpoint: 'mem', params: 'theta' }))(ctx),
  };
  const ev = evaluateSequences(s, agents, sequences, K, o.horizon, 7, log);
  const tEval = (performance.now() - tEval0) / 1000;
  const L = s.family.sequenceLength;
  const summary = Object.fromEntries(
    Object.entries(ev).map(([name, r]) => [
      name,
      {
        byPosition: r.byPosition.map(ci),
        // Mean over T_2 .. T_L per sequence (the tasks where adaptation can act), then over sequences.
        afterFirst: ci(Array.from({ length: sequences }, (_, k) => mean(r.byPosition.slice(1).map((p) => p[k])))),
        adaptMsP50: [...r.adaptMs].sort((a, b) => a - b)[Math.floor(r.adaptMs.length / 2)],
      },
    ]),
  );
  // Environment-step accounting (real transitions; episodes can end early when the ant falls).
  const total = (rows: ReadonlyArray<Record<string, number>>) => ({ iterations: rows.length, episodes: rows.reduce((a, r) => a + r.episodes, 0), envSteps: rows.reduce((a, r) => a + r.envSteps, 0) });
  const warmSteps = total(warm?.log ?? []);
  const metaSteps = total(meta.log);
  const ppoSteps = total(ppo.log);
  const envSteps = {
    note: 'Algorithm 1 plays batch pairs x 2 tasks x episodes per iteration, PPO 2 x batch tasks x episodes: equal iterations = equal episodes',
    warmStartPpo: warmSteps,
    metaTrain: metaSteps,
    ppoTrain: ppoSteps,
    totalMetaLearner: { episodes: warmSteps.episodes + metaSteps.episodes, envSteps: warmSteps.envSteps + metaSteps.envSteps },
    totalPpo: { episodes: warmSteps.episodes + ppoSteps.episodes, envSteps: warmSteps.envSteps + ppoSteps.envSteps },
  };
  log(`env steps: meta-learner ${envSteps.totalMetaLearner.envSteps} (${envSteps.totalMetaLearner.episodes} episodes), PPO ${envSteps.totalPpo.envSteps} (${envSteps.totalPpo.episodes} episodes)`);
  const result = {
    protocol: { ...o, log: undefined, warmStartPpoIterations: warmStart, sequences, evaluationSeed: 7, split: 'test' },
    wallSeconds: { ...(warm ? { warmStartPpo: tWarm } : {}), metaTrain: tMeta, ppoTrain: tPpo, evaluation: tEval },
    envSteps,
    warmStartLog: warm?.log ?? [],
    loadAverageAtStart: load0,
    loadAverageAtEnd: loadavg()[0],
    metaLog: meta.log,
    ppoLog: ppo.log,
    summary,
    raw: Object.fromEntries(Object.entries(ev).map(([n, r]) => [n, r.byPosition])),
    finalMeanAlpha: meta.log.at(-1)?.alpha,
  };
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'locomotion.json'), `${JSON.stringify(result, null, 1)}\n`);
  const xs = Array.from({ length: L }, (_, i) => `T${i + 1}`);
  writeFileSync(
    join(out, 'locomotion-returns.svg'),
    lineChart(
      Object.entries(summary).map(([name, r]) => ({ name, y: r.byPosition.map((c) => c.mean), lo: r.byPosition.map((c) => c.lo), hi: r.byPosition.map((c) => c.hi) })),
      xs,
      `nonstationary-ant: return along held-out sequences (${sequences} seq., 95% CI)`,
      'episode return',
    ),
  );
  writeFileSync(join(out, 'locomotion-training.svg'), trainingChart(meta.log, ppo.log, warm?.log ?? []));
  log(`locomotion done: ${JSON.stringify(Object.fromEntries(Object.entries(summary).map(([n, r]) => [n, r.afterFirst.mean.toFixed(2)])))}`);
}

async function main() {
  await initBackend('wasm');
  if (part === 'locomotion' || part === 'all') await locomotion();
  if (part === 'sumo' || part === 'all') await runSumo({ out, runs, flag, log });
  if (part === 'rl2' || part === 'all') {
    await runRl2({
      horizon: Number(flag('horizon', '100')),
      batch: Number(flag('rl2-trials', '4')),
      episodes: Number(flag('episodes', '3')),
      metaIterations: Number(flag('rl2-iterations', '1000')),
      metaMinutes: 0,
      ppoIterations: 0,
      hidden: [64],
      seed: 1,
      log,
      minutes: Number(flag('rl2-minutes', '15')),
      rl2LearningRate: numberFlag(flag, 'rl2-lr', '3e-3'),
      rl2Epochs: numberFlag(flag, 'rl2-epochs', '3', { integer: true }),
      gaeLambda: Number(flag('gae-lambda', '1')),
      reward: rewardFlags(args, flag),
      sequences: Number(flag('sequences', '12')),
      out,
      runs,
    });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
