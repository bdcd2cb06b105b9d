import { createRegistry } from '@chameleon/builtins';
import { Rng } from '@chameleon/core';
import { initBackend } from '@chameleon/nn';
import { adaptPolicy, adaptWithLearnedStepSizes, advantageConfig, StepSizePolicy, stepSizePolicyConfig, withInner } from '@chameleon/rl';
import { paramsFromWire, paramsToWire, paramValues } from '@chameleon/tensor';
import { episodesToBatches, Peers, trajectoryBatchFromWire, type Episode, type RunningServer } from '@chameleon/transport';
import { serveForTest } from '@chameleon/transport/src/testing';
import { learnerService } from './service';

let server: RunningServer;
let peers: Peers;

beforeAll(async () => {
  await initBackend('wasm');
  server = await serveForTest([learnerService(createRegistry())]);
  peers = new Peers({ taskSampler: '127.0.0.1:1', simulators: ['127.0.0.1:1'], learner: server.address });
});
afterAll(async () => {
  peers.close();
  await server.shutdown(1000);
});

const [O, A, T, E, H] = [3, 2, 2, 4, 6];
const config = { observationSize: O, actionSize: A, hidden: [8], activation: 'tanh' as const, innerSteps: 2, initialStepSize: 0.05 };
const policy = new StepSizePolicy(stepSizePolicyConfig.parse(config));
// Learned alpha that differs per parameter and per step, so no scalar learning rate reproduces it.
const params = policy.init(4).map((p, k) => (k < policy.policyTensors ? p : p.map((_, j) => 0.02 + 0.01 * ((j + k) % 5))));

/** Random trajectories of T tasks (one wire batch per task). */
function trajectories() {
  const rng = new Rng(9);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const episodes = new Map<string, Episode>();
  for (let t = 0; t < T; t++)
    for (let e = 0; e < E; e++)
      episodes.set(`${t}/${e}`, { ref: { task: t, episode: e }, length: H, episodeReturn: 0, observations: fill(H * O), actions: fill(H * A), rewards: fill(H), logProbs: fill(H).map((x) => x - 3), discounts: new Float32Array(H).fill(1), finalObservation: fill(O) });
  return episodesToBatches(episodes, T, E, H, O, A);
}

describe('Learner AdaptPolicy on a policy with learned step sizes', () => {
  it('adapts with its alpha and M steps (the in-process rule), not the scalar learning rate', async () => {
    const wire = trajectories();
    const adaptation = { steps: 1, learningRate: 0.05, discount: 0.99, gaeLambda: 1 };
    const names = policy.spec.map((s) => s.name);
    const res = await peers.adaptPolicy({ policy: { architecture: 'gaussian-mlp-step-sizes', config }, params: paramsToWire(names, policy.spec.map((s) => [...s.shape]), params), trajectories: wire, adaptation, taskParams: [] });
    const remote = res.adapted.map((p) => paramValues(paramsFromWire(p), names));
    const batches = wire.map((b, i) => trajectoryBatchFromWire(b, `b${i}`));
    const advantages = withInner(advantageConfig.parse({}), adaptation);
    const local = adaptWithLearnedStepSizes(policy, params, batches, advantages);
    const scalar = adaptPolicy(policy, params, batches, adaptation.learningRate, adaptation.steps, advantages);
    const maxDiff = (a: Float32Array[][], b: Float32Array[][]) => Math.max(...a.flatMap((x, i) => x.flatMap((v, k) => Array.from(v, (y, j) => Math.abs(y - b[i][k][j])))));
    expect(remote).toHaveLength(T);
    expect(maxDiff(remote, local)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(remote, scalar)).toBeGreaterThan(1e-3);
    // theta moved, alpha came back unchanged.
    expect(maxDiff(remote.map((p) => p.slice(0, policy.policyTensors)), [params, params].map((p) => p.slice(0, policy.policyTensors)))).toBeGreaterThan(1e-4);
    remote.forEach((p) => expect(p.slice(policy.policyTensors)).toEqual(params.slice(policy.policyTensors)));
  });
});
