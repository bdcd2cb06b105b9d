import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import { chameleonPackageDefinition } from './protos';

/** Default message size bound: 64 MiB (a few-shot image batch is about 10 MB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** One gRPC service to host. */
export interface HostedService {
  /** Full proto name, e.g. "chameleon.v1.LearnerService" (used for health). */
  readonly name: string;
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
  /** Called once the server has stopped (e.g. to free simulator worlds). */
  readonly stop?: () => void | Promise<void>;
}

export interface ServerOptions {
  /** For logs. */
  readonly label: string;
  readonly services: readonly HostedService[];
  /** Default 127.0.0.1. Use 0.0.0.0 to serve other hosts. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly maxMessageBytes?: number;
  /** Insecure when absent. */
  readonly credentials?: grpc.ServerCredentials;
  readonly interceptors?: grpc.ServerInterceptor[];
  readonly log?: (line: string) => void;
}

export interface RunningServer {
  readonly address: string;
  readonly port: number;
  readonly server: grpc.Server;
  readonly health: HealthImplementation;
  /**
   * Stops accepting calls, lets in-flight calls finish for up to `graceMs`, then cancels
   * the rest. Health turns NOT_SERVING first so balancers stop sending work.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * Starts a gRPC server hosting `services` plus gRPC health checking and server
 * reflection, with a bound on message sizes (larger messages get RESOURCE_EXHAUSTED).
 *
 * @example
 *   const s = await startServer({ label: 'learner', services: [learnerService], port: 0 });
 *   console.log(s.address); // 127.0.0.1:41235
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': max,
    'grpc.max_send_message_length': max,
    // Keep idle loopback connections alive between meta-iterations.
    'grpc.keepalive_permit_without_calls': 1,
    interceptors: options.interceptors,
  });
  const statuses: Record<string, 'SERVING'> = { '': 'SERVING' };
  for (const s of options.services) {
    server.addService(s.definition, s.implementation);
    statuses[s.name] = 'SERVING';
  }
  const health = new HealthImplementation(statuses);
  health.addToServer(server);
  // Reflection lists what this server hosts (plus health), not every service of the package.
  new ReflectionService(chameleonPackageDefinition(), { services: [...options.services.map((s) => s.name), 'grpc.health.v1.Health'] }).addToServer(server);
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port ?? 0}`, options.credentials ?? grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(new Error(`${options.label}: cannot listen on ${host}:${options.port ?? 0}: ${err.message}`)) : resolve(p),
    ),
  );
  const address = `${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    address,
    port,
    server,
    health,
    shutdown(graceMs = 10_000) {
      stopping ??= new Promise<void>((resolve) => {
        for (const name of Object.keys(statuses)) health.setStatus(name, 'NOT_SERVING');
        const force = setTimeout(() => {
          options.log?.(`${options.label}: in-flight calls did not finish within ${graceMs} ms; cancelling them`);
          server.forceShutdown();
          resolve();
        }, graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }).then(async () => {
        for (const s of options.services) await s.stop?.();
      });
      return stopping;
    },
  };
}
