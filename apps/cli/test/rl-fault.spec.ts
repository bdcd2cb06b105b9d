import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRegistry } from '@chameleon/builtins';
import { evaluatorService } from '@chameleon/app-evaluator';
import { learnerService } from '@chameleon/app-learner';
import { MetaOptimiser } from '@chameleon/app-meta-optimiser';
import { taskSamplerService } from '@chameleon/app-task-sampler';
import { initBackend } from '@chameleon/nn';
import { MetaOptimiserServiceClient, RunState } from '@chameleon/proto';
import { Peers, connect, startServer, unaryCall, type RunningServer } from '@chameleon/transport';
import { spawnService, type ServiceProcess } from './processes';
import { tmp, watchAll } from './helpers';

/**
 * Meta-RL with two simulator processes, one of which dies mid-rollout (fault injection:
 * it kills itself after streaming 3 chunks). The iteration must complete with exactly the
 * requested episodes: the dead replica's unfinished episodes are re-run on the other one.
 */
describe('meta-RL iteration with a simulator killed mid-rollout', () => {
  const dir = tmp('rl-fault');
  const sims: ServiceProcess[] = [];
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop('SIGKILL')));
    for (const s of servers) await s.shutdown(500);
  });

  it('completes with every episode exactly once', async () => {
    await initBackend('wasm');
    sims.push(await spawnService('environment-simulator', [], { CHAMELEON_FAULT_EXIT_AFTER_CHUNKS: '3' }));
    sims.push(await spawnService('environment-simulator', []));
    const registry = createRegistry();
    const up = async (s: Parameters<typeof startServer>[0]['services'][number]) => {
      const server = await startServer({ label: 't', services: [s], port: 0 });
      servers.push(server);
      return server.address;
    };
    const taskSampler = await up(taskSamplerService(registry));
    const learner = await up(learnerService(registry));
    const simulators = sims.map((s) => s.address);
    const evaluator = await up(evaluatorService(new Peers({ taskSampler, simulators, learner }), registry));
    const mo = new MetaOptimiser({ peers: new Peers({ taskSampler, simulators, learner, evaluator }), registry, runsDir: dir });
    const client = connect(MetaOptimiserServiceClient, await up(mo.service()));
    const config = {
      kind: 'rl',
      name: 'fault',
      task: { family: '2d-navigation' },
      policy: { config: { hidden: [8], activation: 'tanh' } },
      algorithm: { name: 'maml-trpo', config: { firstOrder: true, trpo: { cgIters: 2 } } },
      meta: { iterations: 1, batchSize: 4, episodesPerTask: 50, horizon: 40 },
      rollouts: { chunkSteps: 64, parallelWorlds: 16 },
      evaluation: { enabled: false },
    };
    const { run } = await unaryCall(client, client.startRun, { runId: '', config, outputDir: join(dir, 'run'), resumeFrom: '' }, 'StartRun');
    const events = await watchAll(client, run!.runId);
    const finished = events[events.length - 1].event;
    expect(finished?.$case === 'finished' && RunState[finished.finished.state]).toBe('RUN_STATE_COMPLETED');
    // The faulty simulator really died.
    expect(await sims[0].stop()).toBe('SIGKILL');
    const progress = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'progress');
    expect(progress).toHaveLength(1);
    const { pre, post } = progress[0].rollouts;
    expect(pre.episodes).toBe(200);
    expect(post.episodes).toBe(200);
    expect(pre.failures + post.failures).toBe(1);
    client.close();
  }, 180_000);
});
