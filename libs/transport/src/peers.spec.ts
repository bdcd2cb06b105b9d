import { EnvironmentSimulatorServiceService, type SampleSupervisedRequest, type SupervisedBatch } from '@chameleon/proto';
import { unary } from './handlers';
import { Peers } from './peers';
import { expandAddresses } from './replicas';
import { startServer, type RunningServer } from './server';
import { rejection } from './testing';

/** A simulator that counts the SampleSupervised calls it answers. */
function countingSimulator(counter: { n: number }) {
  return {
    name: 'chameleon.v1.EnvironmentSimulatorService',
    definition: EnvironmentSimulatorServiceService,
    implementation: {
      sampleSupervised: unary('SampleSupervised', () => {
        counter.n++;
        return { batch: {} as SupervisedBatch };
      }),
    },
  };
}

const req = { tasks: [], supportSize: 1, querySize: 1, seed: 0, sourceConfig: {} } as unknown as SampleSupervisedRequest;
const serve = (host: string, port: number, counter: { n: number }) =>
  startServer({ label: 'sim', services: [countingSimulator(counter)], host, port, log: () => undefined });

describe('expandAddresses', () => {
  it('expands names with several addresses, keeps IPs, localhost, single and unresolvable names', async () => {
    const resolve = async (host: string) => {
      if (host === 'sims') return ['10.0.0.2', '10.0.0.1', '10.0.0.2'];
      if (host === 'one') return ['10.0.0.9'];
      if (host === 'v6') return ['fd00::1', 'fd00::2'];
      throw new Error('ENOTFOUND');
    };
    expect(await expandAddresses(['sims:50052', '127.0.0.1:1', 'localhost:2', 'one:3', 'nowhere:4', 'v6:5'], resolve)).toEqual([
      { address: '10.0.0.1:50052', authority: 'sims' },
      { address: '10.0.0.2:50052', authority: 'sims' },
      { address: '127.0.0.1:1' },
      { address: 'localhost:2' },
      { address: 'one:3' },
      { address: 'nowhere:4' },
      { address: '[fd00::1]:5', authority: 'v6' },
      { address: '[fd00::2]:5', authority: 'v6' },
    ]);
  });
});

describe('Peers: replicas behind one name, outages and retries', () => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.shutdown(100);
  });

  it('spreads calls over every address a simulator name resolves to, and follows the name as it changes', async () => {
    const a = { n: 0 };
    const b = { n: 0 };
    servers.push(await serve('127.0.0.1', 0, a));
    servers.push(await serve('127.0.0.2', servers[0].port, b));
    let ips = ['127.0.0.1', '127.0.0.2'];
    const peers = new Peers({ taskSampler: '127.0.0.1:1', learner: '127.0.0.1:1', simulators: [`sims.test:${servers[0].port}`] }, { resolve: async () => ips, dnsRefreshMs: 60_000 });
    for (let i = 0; i < 6; i++) await peers.sampleSupervised(req);
    expect(peers.simulatorAddresses()).toEqual([`127.0.0.1:${servers[0].port}`, `127.0.0.2:${servers[0].port}`]);
    expect([a.n, b.n]).toEqual([3, 3]);
    // The autoscaler removed one replica: after re-resolving, only the other is used.
    ips = ['127.0.0.2'];
    await peers.refreshSimulators(true);
    expect(peers.simulatorAddresses()).toEqual([`sims.test:${servers[0].port}`]);
    peers.close();
  });

  it('waits out a simulator outage with backoff and succeeds once it is back', async () => {
    const counter = { n: 0 };
    const first = await serve('127.0.0.1', 0, counter);
    const port = first.port;
    const peers = new Peers({ taskSampler: '127.0.0.1:1', learner: '127.0.0.1:1', simulators: [`127.0.0.1:${port}`] }, { retry: { retries: 8, backoffMs: 50, maxBackoffMs: 400 } });
    await peers.sampleSupervised(req);
    await first.shutdown(100);
    const t0 = Date.now();
    const call = peers.sampleSupervised(req);
    await new Promise((r) => setTimeout(r, 500));
    servers.push(await serve('127.0.0.1', port, counter));
    await expect(call).resolves.toBeDefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    expect(counter.n).toBe(2);
    peers.close();
  });

  it('gives up with UNAVAILABLE after the configured retries, within the backoff budget', async () => {
    const peers = new Peers({ taskSampler: '127.0.0.1:1', learner: '127.0.0.1:1', simulators: ['127.0.0.1:1', '127.0.0.1:2'] }, { retry: { retries: 3, backoffMs: 20, maxBackoffMs: 40 } });
    const t0 = Date.now();
    expect((await rejection(peers.sampleSupervised(req))).code).toBe('UNAVAILABLE');
    expect((await rejection(peers.sampleTasks({ family: 'x', familyConfig: {}, split: 1, seed: 0, startIndex: 0, count: 1 }))).code).toBe('UNAVAILABLE');
    // 3 backoffs of at most 1.5 x 40 ms per call, plus connection attempts.
    expect(Date.now() - t0).toBeLessThan(5_000);
    peers.close();
  });
});
