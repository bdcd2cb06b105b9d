import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rlRunConfig } from '@chameleon/config';
import { RunState, Split, type AdaptPolicyRequest, type PolicyMetaStepRequest, type SampleTaskPairsRequest, type StreamRolloutsRequest, type TaskPair, type TaskSpec } from '@chameleon/proto';
import type { Episode, Peers } from '@chameleon/transport';
import { RlRun } from './rl-run';

const dir = mkdtempSync(join(tmpdir(), 'rl-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const task = (id: string, index: number): TaskSpec => ({ id, family: 'nonstationary-ant', params: {}, seed: 1, split: Split.SPLIT_TRAIN, index, familyVersion: '1' });
const H = 3;

/** Peers that record every request and answer with constant data (one observation and action feature). */
function recordingPeers() {
  const calls = { tasks: 0, pairs: [] as SampleTaskPairsRequest[], sampled: [] as TaskPair[][], rollouts: [] as StreamRolloutsRequest[], adapt: [] as AdaptPolicyRequest[], meta: [] as PolicyMetaStepRequest[] };
  const episode = (t: number, e: number): Episode => ({ ref: { task: t, episode: e }, length: H, episodeReturn: 0, observations: new Float32Array(H), actions: new Float32Array(H), rewards: new Float32Array(H), logProbs: new Float32Array(H), discounts: new Float32Array(H).fill(1), finalObservation: new Float32Array(1) });
  const peers = {
    describeLearner: async () => ({ backend: 'test' }),
    sampleTasks: async (req: { startIndex: number; count: number }) => {
      calls.tasks++;
      return Array.from({ length: req.count }, (_, k) => task(`t${req.startIndex + k}`, req.startIndex + k));
    },
    sampleTaskPairs: async (req: SampleTaskPairsRequest) => {
      calls.pairs.push(req);
      const pairs = Array.from({ length: req.count }, (_, k) => ({ current: task(`cur${req.startIndex + k}`, 2 * k), next: task(`next${req.startIndex + k}`, 2 * k + 1) }));
      calls.sampled.push(pairs);
      return pairs;
    },
    rollouts: async (req: StreamRolloutsRequest) => {
      calls.rollouts.push(req);
      return { episodes: new Map(req.episodes.map((r) => [`${r.task}/${r.episode}`, episode(r.task, r.episode)])), stats: {} };
    },
    adaptPolicy: async (req: AdaptPolicyRequest) => {
      calls.adapt.push(req);
      return { adapted: req.trajectories.map(() => req.params), returns: [] };
    },
    policyMetaStep: async (req: PolicyMetaStepRequest) => {
      calls.meta.push(req);
      return { params: req.params, surrogateBefore: 0, surrogateAfter: 0, kl: 0, lineSearchSteps: 0, accepted: true, backend: 'test' };
    },
  };
  return { peers: peers as unknown as Peers, calls };
}

async function run(taskPairs: boolean) {
  const { peers, calls } = recordingPeers();
  const config = rlRunConfig.parse({
    kind: 'rl',
    name: 'pairs',
    task: { family: 'nonstationary-ant' },
    meta: { iterations: 2, batchSize: 3, episodesPerTask: 2, horizon: H, taskPairs },
    baseline: { iterations: 0, oracleIterations: 0 },
    evaluation: { enabled: false },
  });
  const r = new RlRun({
    id: `pairs-${taskPairs}`,
    config,
    outDir: join(dir, String(taskPairs)),
    peers,
    log: () => undefined,
    environment: 'nonstationary-ant',
    policy: { spec: [{ name: 'w', shape: [2] }], init: () => [new Float32Array(2)] },
    policySpec: { architecture: 'fake', config: {} },
    obsSize: 1,
    actSize: 1,
    horizon: H,
  });
  await r.start();
  expect(RunState[r.status().state]).toBe('RUN_STATE_COMPLETED');
  return calls;
}

const ids = (req: StreamRolloutsRequest) => req.tasks.map((t) => t.id);

describe('RlRun meta-iterations', () => {
  it('with meta.taskPairs, rolls theta out on T_i and the adapted policies on T_{i+1} of SampleTaskPairs', async () => {
    const calls = await run(true);
    expect(calls.tasks).toBe(0);
    expect(calls.pairs.map((p) => [p.startIndex, p.count, p.family])).toEqual([
      [0, 3, 'nonstationary-ant'],
      [3, 3, 'nonstationary-ant'],
    ]);
    // Rollouts alternate pre (theta, one parameter list) and post (one adapted list per task).
    expect(calls.rollouts).toHaveLength(4);
    calls.sampled.forEach((pairs, i) => {
      const [pre, post] = [calls.rollouts[2 * i], calls.rollouts[2 * i + 1]];
      expect(ids(pre)).toEqual(pairs.map((p) => p.current!.id));
      expect(ids(post)).toEqual(pairs.map((p) => p.next!.id));
      expect([pre.policyParams.length, post.policyParams.length]).toEqual([1, 3]);
    });
    expect(calls.meta.map((m) => [m.pre.length, m.post.length])).toEqual([
      [3, 3],
      [3, 3],
    ]);
  });

  it('without it (MAML), pre and post rollouts are on the same sampled tasks', async () => {
    const calls = await run(false);
    expect([calls.tasks, calls.pairs.length]).toEqual([2, 0]);
    expect(calls.rollouts.map(ids)).toEqual([
      ['t0', 't1', 't2'],
      ['t0', 't1', 't2'],
      ['t3', 't4', 't5'],
      ['t3', 't4', 't5'],
    ]);
  });
});
