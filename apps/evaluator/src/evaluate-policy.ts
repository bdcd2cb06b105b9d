import { Rng, check, stepMetrics, resourceExhausted } from '@chameleon/core';
import type { CandidateResult, EvaluatePolicyRequest, EvaluatePolicyResponse, NamedTensor, Parameters, PolicyPaths } from '@chameleon/proto';
import { toWire } from '@chameleon/tensor';
import { episodesToBatches, meanReturns, splitFromWire, splitToWire, type CallContext, type Episode, type Peers } from '@chameleon/transport';

export const MAX_POLICY_EVAL_TASKS = 10_000;
/** Episodes per task kept as paths for plots. */
const PATH_EPISODES = 3;

/** [E, H, obs] observation paths of a task's first episodes, padded with the last observation. */
function pathsOf(episodes: Map<string, Episode>, task: number, horizon: number): Float32Array | undefined {
  const eps: Episode[] = [];
  for (let e = 0; e < PATH_EPISODES; e++) {
    const ep = episodes.get(`${task}/${e}`);
    if (ep) eps.push(ep);
  }
  if (!eps.length) return undefined;
  const obs = eps[0].observations.length / eps[0].length;
  const out = new Float32Array(eps.length * horizon * obs);
  eps.forEach((ep, i) => {
    for (let t = 0; t < horizon; t++) {
      const src = Math.min(t, ep.length - 1);
      out.set(ep.observations.subarray(src * obs, (src + 1) * obs), (i * horizon + t) * obs);
    }
  });
  return out;
}

/**
 * Mean return of each candidate after 0..max_steps policy-gradient adaptation steps on
 * held-out tasks. After every step the adapted policies collect fresh trajectories, as in
 * MAML-RL. Every candidate meets the same tasks with the same environment seeds at each step.
 */
export async function evaluatePolicy(req: EvaluatePolicyRequest, peers: Peers, ctx: CallContext): Promise<EvaluatePolicyResponse> {
  const started = Date.now();
  check(req.family, 'family', 'is required');
  check(req.numTasks >= 1, 'num_tasks', `must be >= 1, got ${req.numTasks}`);
  if (req.numTasks > MAX_POLICY_EVAL_TASKS) throw resourceExhausted('num_tasks', `at most ${MAX_POLICY_EVAL_TASKS}, got ${req.numTasks}`);
  check(req.episodesPerTask >= 1, 'episodes_per_task', `must be >= 1, got ${req.episodesPerTask}`);
  check(req.maxSteps <= 20, 'max_steps', `must be <= 20, got ${req.maxSteps}`);
  check(req.candidates.length > 0, 'candidates', 'give at least one candidate');
  check(req.policy?.architecture, 'policy.architecture', 'is required');
  check(req.adaptation, 'adaptation', 'is required');
  const names = new Set<string>();
  req.candidates.forEach((c, i) => {
    check(c.name, `candidates[${i}].name`, 'is required');
    check(!names.has(c.name), `candidates[${i}].name`, `"${c.name}" appears twice`);
    names.add(c.name);
    check(c.params, `candidates[${i}].params`, 'is required');
  });
  const environment = req.environment || req.family;
  const listed = (await peers.listEnvironments()).environments.find((e) => e.name === environment);
  check(listed && !listed.supervised, 'environment', `the simulator has no sequential environment "${environment}"`);
  const horizon = req.horizon || listed.maxEpisodeSteps;
  const actSize = (listed.actionSpec?.shape ?? []).reduce((a, b) => a * b, 1);
  const split = splitFromWire(req.split, 'split', 'test');
  const tasks = await peers.sampleTasks({ family: req.family, familyConfig: req.familyConfig, split: splitToWire(split), seed: req.seed, startIndex: 0, count: req.numTasks });
  const T = tasks.length;
  const E = req.episodesPerTask;
  const results: CandidateResult[] = [];
  const paths: PolicyPaths[] = tasks.slice(0, req.numPaths).map((task) => ({ task, paths: [] }));
  for (const c of req.candidates) {
    const policy = c.policy?.architecture ? c.policy : req.policy;
    let current: Parameters[] = [c.params!];
    const perStep: Float32Array[] = [];
    const steps = c.adapt ? req.maxSteps : 0;
    for (let k = 0; k <= steps; k++) {
      ctx.throwIfDone();
      const { episodes } = await peers.rollouts({
        environment,
        environmentConfig: c.environmentConfig && Object.keys(c.environmentConfig).length ? c.environmentConfig : req.environmentConfig,
        policy,
        policyParams: current,
        tasks,
        episodes: tasks.flatMap((_, t) => Array.from({ length: E }, (_x, e) => ({ task: t, episode: e }))),
        horizon,
        seed: Rng.fromKeys('evaluate-policy', req.seed, k).seed(),
        chunkSteps: 128,
        deterministic: false,
        parallelWorlds: 64,
        observeTask: c.observeTask,
      });
      perStep.push(Float32Array.from(meanReturns(episodes, T)));
      paths.forEach((p, t) => {
        const data = pathsOf(episodes, t, horizon);
        if (!data) return;
        const obs = data.length / (Math.min(PATH_EPISODES, E) * horizon);
        p.paths.push({ name: `${c.name}/step${k}`, tensor: toWire({ dtype: 'float32', shape: [Math.min(PATH_EPISODES, E), horizon, obs], data }) } as NamedTensor);
      });
      if (k < steps) {
        const obsSize = episodes.values().next().value!.observations.length / episodes.values().next().value!.length;
        const batches = episodesToBatches(episodes, T, E, horizon, obsSize, actSize);
        const adapted = await peers.adaptPolicy({
          policy,
          params: current.length === 1 ? current[0] : undefined,
          trajectories: batches,
          adaptation: { ...req.adaptation!, steps: 1 },
          taskParams: current.length === 1 ? [] : current,
        });
        current = adapted.adapted;
      }
    }
    results.push({ name: c.name, loss: [], accuracy: [], episodeReturn: stepMetrics(perStep) });
  }
  return { results, numTasks: T, paths, backend: (await peers.describeLearner()).backend, seconds: (Date.now() - started) / 1000 };
}

