import { resolve } from 'node:path';
import { invalidArgument, zodToInvalidArgument } from '@chameleon/core';
import { commonServiceConfig, evaluatorServiceConfig, learnerServiceConfig, metaOptimiserServiceConfig } from '@chameleon/config';
import { createRegistry } from '@chameleon/builtins';
import { environmentSimulatorService } from '@chameleon/app-environment-simulator';
import { evaluatorService } from '@chameleon/app-evaluator';
import { learnerService } from '@chameleon/app-learner';
import { MetaOptimiser } from '@chameleon/app-meta-optimiser';
import { taskSamplerService } from '@chameleon/app-task-sampler';
import { Peers, bearer, channelCredentials, serverCredentials, startServer, tokenAuthInterceptor, type HostedService } from '@chameleon/transport';
import { agentContext, agentServerService, fieldAgents, type AgentEntry } from '@chameleon/app-agent-server';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ZodType } from 'zod';
import { env, list } from '../env';
import { emit, log } from '../log';
import { backend, untilSignal } from './shared';

type Flags = Record<string, string | undefined>;

function parse<T>(schema: ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw zodToInvalidArgument(r.error, 'flags');
  return r.data;
}

/** Flags first, then CHAMELEON_* variables, then defaults; validated by the service's schema. */
function common(flags: Flags) {
  const port = flags.port ?? env('port');
  const max = flags.maxMessageBytes ?? env('maxMessageBytes');
  return {
    host: flags.host ?? env('host'),
    port: port === undefined ? undefined : Number(port),
    maxMessageBytes: max === undefined ? undefined : Number(max),
    plugins: list(flags.plugins ?? env('plugins')),
  };
}

/** How this service reaches its peers: TLS material and a token, from CHAMELEON_PEER_* variables. */
function peerOptions(maxMessageBytes: number) {
  const token = env('peerToken');
  return {
    maxMessageBytes,
    credentials: channelCredentials({ ca: env('peerTlsCa'), cert: env('peerTlsCert'), key: env('peerTlsKey') }),
    metadata: token ? () => bearer(token) : undefined,
  };
}

function readAgents(path: string | undefined): AgentEntry[] {
  if (!path) throw invalidArgument('--agents', 'the agent-server needs a YAML list of {name, plugin, config} to field');
  let value: unknown;
  try {
    value = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw invalidArgument('--agents', `cannot read ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(value) || !value.every((a) => a && typeof a.name === 'string' && typeof a.plugin === 'string')) {
    throw invalidArgument('--agents', `${path} must be a YAML list of {name, plugin, config}`);
  }
  return value as AgentEntry[];
}

function peers(flags: Flags) {
  return {
    taskSampler: flags.taskSampler ?? env('taskSampler'),
    simulators: list(flags.simulators ?? env('simulators')),
    learner: flags.learner ?? env('learner'),
  };
}

/** `chameleon serve <service>`: one service, its own process, until SIGINT/SIGTERM. */
export async function serve(service: string, flags: Flags): Promise<void> {
  let hosted: HostedService;
  let beforeStop: () => Promise<void> = async () => undefined;
  let config = parse(commonServiceConfig, common(flags));
  const registry = () => createRegistry(config.plugins);
  switch (service) {
    case 'task-sampler':
      hosted = taskSamplerService(registry());
      break;
    case 'environment-simulator': {
      const after = env('faultExitAfterChunks');
      hosted = environmentSimulatorService(registry(), { faults: after ? { exitAfterChunks: Number(after) } : undefined });
      break;
    }
    case 'learner': {
      const perPass = flags.tasksPerPass ?? env('tasksPerPass');
      const passMb = flags.passMemoryMb ?? env('passMemoryMb');
      const c = parse(learnerServiceConfig, {
        ...common(flags),
        backend: flags.backend ?? env('backend'),
        tasksPerPass: perPass === undefined ? undefined : perPass === 'auto' ? 0 : Number(perPass),
        passMemoryMb: passMb === undefined ? undefined : Number(passMb),
      });
      config = c;
      await backend(c.backend);
      hosted = learnerService(registry(), { tasksPerPass: c.tasksPerPass, passMemoryMb: c.passMemoryMb });
      break;
    }
    case 'evaluator': {
      const c = parse(evaluatorServiceConfig, { ...common(flags), peers: peers(flags) });
      config = c;
      hosted = evaluatorService(new Peers(c.peers, peerOptions(c.maxMessageBytes)), registry());
      break;
    }
    case 'meta-optimiser': {
      const c = parse(metaOptimiserServiceConfig, {
        ...common(flags),
        peers: { ...peers(flags), evaluator: flags.evaluator ?? env('evaluator') },
        runsDir: flags.runsDir ?? env('runsDir'),
        confineToRunsDir: !(flags.allowAnyOutputDir || env('allowAnyOutputDir') === '1'),
      });
      config = c;
      const mo = new MetaOptimiser({ peers: new Peers(c.peers, peerOptions(c.maxMessageBytes)), registry: registry(), runsDir: resolve(c.runsDir), confineToRunsDir: c.confineToRunsDir, log });
      hosted = mo.service();
      beforeStop = () => mo.stopAll();
      break;
    }
    case 'agent-server': {
      await backend(flags.backend);
      const reg = registry();
      hosted = agentServerService(fieldAgents(readAgents(flags.agents ?? env('agents')), reg, agentContext(reg)));
      break;
    }
    default:
      throw invalidArgument('<service>', `must be one of task-sampler, environment-simulator, learner, meta-optimiser, evaluator, agent-server; got "${service}"`);
  }
  const tokens = list(flags.tokens ?? env('tokens'));
  const server = await startServer({
    label: service,
    services: [hosted],
    host: config.host,
    port: config.port,
    maxMessageBytes: config.maxMessageBytes,
    credentials: serverCredentials({ cert: flags.tlsCert ?? env('tlsCert'), key: flags.tlsKey ?? env('tlsKey'), ca: flags.tlsCa ?? env('tlsCa') }),
    interceptors: tokens.length ? [tokenAuthInterceptor(tokens)] : undefined,
    log,
  });
  emit({ event: 'listening', service, address: server.address, port: server.port, pid: process.pid });
  log(`${service} listening on ${config.host}:${server.port}`);
  await untilSignal(async () => {
    await beforeStop();
    await server.shutdown(config.shutdownGraceSeconds * 1000);
  });
  log(`${service} stopped`);
}
