import { createRegistry } from '@chameleon/builtins';
import { NavigationFamily } from '@chameleon/envs';
import { EnvironmentSimulatorServiceClient, type StreamRolloutsRequest } from '@chameleon/proto';
import { sampleTasks } from '@chameleon/tasks';
import { paramsToWire } from '@chameleon/tensor';
import { collectRollouts, connect, taskToWire, type RunningServer } from '@chameleon/transport';
import { rejection, serveForTest } from '@chameleon/transport/src/testing';
import { environmentSimulatorService } from './service';
import { linearTestPolicy } from './testing';

const registry = () => createRegistry().register(linearTestPolicy);
const tasks = sampleTasks(new NavigationFamily(), { split: 'train', seed: 2, start: 0, count: 4 }).map(taskToWire);

const request = (episodes: number, horizon = 100): StreamRolloutsRequest => ({
  environment: '2d-navigation',
  environmentConfig: { goalTolerance: 0 },
  policy: { architecture: 'test-linear-policy', config: {} },
  policyParams: [paramsToWire(['w', 'b'], [[2, 2], [2]], [new Float32Array(4), Float32Array.from([0.02, -0.01])])],
  tasks,
  episodes: Array.from({ length: episodes }, (_, i) => ({ task: i % 4, episode: Math.floor(i / 4) })),
  horizon,
  seed: 5,
  chunkSteps: 128,
  deterministic: false,
  parallelWorlds: 16,
  observeTask: false,
});

describe('collectRollouts across simulator replicas', () => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.shutdown(100)));
  });

  it('collects exactly the requested episodes, spread over the replicas', async () => {
    for (let i = 0; i < 2; i++) servers.push(await serveForTest([environmentSimulatorService(registry())]));
    const clients = servers.map((s) => connect(EnvironmentSimulatorServiceClient, s.address));
    const { episodes, stats } = await collectRollouts(clients, request(40, 30));
    expect(episodes.size).toBe(40);
    expect(stats).toEqual({ streams: 2, failures: 0, lostReplicas: 0, lost: [] });
    for (const e of episodes.values()) {
      expect(e.length).toBe(30);
      expect(e.observations.length).toBe(60);
      expect(e.episodeReturn).toBeCloseTo(e.rewards.reduce((a, b) => a + b, 0), 3);
      // The final observation is the position after the last (clipped) action.
      const clip = (a: number) => Math.max(-0.1, Math.min(0.1, a));
      const last = e.length - 1;
      expect(e.finalObservation[0]).toBeCloseTo(e.observations[2 * last] + clip(e.actions[2 * last]), 5);
      expect(e.finalObservation[1]).toBeCloseTo(e.observations[2 * last + 1] + clip(e.actions[2 * last + 1]), 5);
    }
    clients.forEach((c) => c.close());
  });

  it('survives a replica killed mid-rollout: no episode lost or duplicated, data identical', async () => {
    for (let i = 0; i < 2; i++) servers.push(await serveForTest([environmentSimulatorService(registry())]));
    const clients = servers.map((s) => connect(EnvironmentSimulatorServiceClient, s.address));
    const req = request(1200);
    const reference = await collectRollouts([clients[0]], req);
    setTimeout(() => void servers[1].shutdown(0), 150);
    const { episodes, stats } = await collectRollouts(clients, req);
    expect(stats.failures).toBe(1);
    expect(stats.lostReplicas).toBe(1);
    expect(episodes.size).toBe(1200);
    for (const [k, e] of episodes) {
      const ref = reference.episodes.get(k)!;
      expect(e.length).toBe(ref.length);
      expect(Array.from(e.actions)).toEqual(Array.from(ref.actions));
    }
    clients.forEach((c) => c.close());
  }, 60_000);

  it('fails fast on a bad request instead of retrying it elsewhere', async () => {
    for (let i = 0; i < 2; i++) servers.push(await serveForTest([environmentSimulatorService(registry())]));
    const clients = servers.map((s) => connect(EnvironmentSimulatorServiceClient, s.address));
    const e = await rejection(collectRollouts(clients, { ...request(8), chunkSteps: 5 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    clients.forEach((c) => c.close());
  });

  it('reports UNAVAILABLE when every replica is gone', async () => {
    servers.push(await serveForTest([environmentSimulatorService(registry())]));
    const client = connect(EnvironmentSimulatorServiceClient, servers[0].address);
    await servers.splice(0)[0].shutdown(0);
    const e = await rejection(collectRollouts([client], request(4), { deadlineMs: 2000 }));
    expect(e.code).toBe('UNAVAILABLE');
    client.close();
  });
});
