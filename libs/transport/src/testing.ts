import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { startServer, type HostedService, type RunningServer } from './server';

/** Starts services on a loopback port for a test. */
export function serveForTest(services: HostedService[], options: { maxMessageBytes?: number } = {}): Promise<RunningServer> {
  return startServer({ label: 'test', services, port: 0, maxMessageBytes: options.maxMessageBytes, log: () => undefined });
}

/** The gRPC health status of `service` at `address` ("SERVING", "NOT_SERVING", ...). */
export function healthStatus(address: string, service: string): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
  const client = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(req: { service: string }, opts: Partial<grpc.CallOptions>, cb: (e: grpc.ServiceError | null, r: { status: string | number }) => void): void;
  };
  return new Promise((resolve, reject) =>
    client.check({ service }, { deadline: Date.now() + 5000 }, (e, r) => {
      client.close();
      if (e) reject(e);
      else resolve(typeof r.status === 'number' ? ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][r.status] : r.status);
    }),
  );
}

/** Asserts-friendly: runs a promise and returns the ChameleonError (or gRPC error) it rejects with. */
export async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected the call to fail, but it succeeded');
}
