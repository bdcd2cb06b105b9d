import { resolve } from 'node:path';
import type { PluginRegistry } from '@chameleon/plugins';
import { environmentSimulatorService } from '@chameleon/app-environment-simulator';
import { evaluatorService } from '@chameleon/app-evaluator';
import { learnerService } from '@chameleon/app-learner';
import { MetaOptimiser } from '@chameleon/app-meta-optimiser';
import { taskSamplerService } from '@chameleon/app-task-sampler';
import { Peers, startServer, type RunningServer } from '@chameleon/transport';

export interface ServiceAddresses {
  taskSampler: string;
  simulators: string[];
  learner: string;
  evaluator: string;
  metaOptimiser: string;
}

export interface Embedded {
  readonly addresses: ServiceAddresses;
  readonly metaOptimiser: MetaOptimiser;
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * All five services in this process, each its own gRPC server on a loopback port: the
 * embedded default. They still talk to each other over real gRPC.
 */
export async function startEmbedded(registry: PluginRegistry, options: { host?: string; runsDir?: string; log?: (l: string) => void } = {}): Promise<Embedded> {
  const host = options.host ?? '127.0.0.1';
  const servers: RunningServer[] = [];
  const up = async (label: string, service: Parameters<typeof startServer>[0]['services'][number]) => {
    const s = await startServer({ label, services: [service], host, port: 0, log: options.log });
    servers.push(s);
    return s.address;
  };
  const taskSampler = await up('task-sampler', taskSamplerService(registry));
  const simulator = await up('environment-simulator', environmentSimulatorService(registry));
  const learner = await up('learner', learnerService(registry));
  const evalPeers = new Peers({ taskSampler, simulators: [simulator], learner });
  const evaluator = await up('evaluator', evaluatorService(evalPeers, registry));
  const peers = new Peers({ taskSampler, simulators: [simulator], learner, evaluator });
  const metaOptimiser = new MetaOptimiser({ peers, registry, runsDir: resolve(options.runsDir ?? 'runs'), log: options.log });
  const mo = await up('meta-optimiser', metaOptimiser.service());
  return {
    addresses: { taskSampler, simulators: [simulator], learner, evaluator, metaOptimiser: mo },
    metaOptimiser,
    async shutdown(graceMs = 10_000) {
      await metaOptimiser.stopAll();
      // Outer services first, so nothing calls a server that is already gone.
      for (const s of [...servers].reverse()) await s.shutdown(graceMs);
      peers.close();
      evalPeers.close();
    },
  };
}
