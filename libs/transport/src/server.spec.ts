import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { invalidArgument } from '@chameleon/core';
import { Split, TaskSamplerServiceService, type SampleTasksRequest, type SampleTasksResponse } from '@chameleon/proto';
import { connect, unaryCall } from './client';
import { unary, type CallContext } from './handlers';
import { startServer, type RunningServer } from './server';
import { healthStatus, rejection } from './testing';
import { TaskSamplerServiceClient } from '@chameleon/proto';

/** A task sampler whose handler waits, to have calls in flight during shutdown. */
function slowSampler(delayMs: number, seen: CallContext[] = []) {
  return {
    name: 'chameleon.v1.TaskSamplerService',
    definition: TaskSamplerServiceService,
    implementation: {
      listFamilies: unary('ListFamilies', () => ({ families: [] })),
      sampleTasks: unary<SampleTasksRequest, SampleTasksResponse>('SampleTasks', async (req, ctx) => {
        seen.push(ctx);
        if (req.family === 'bad') throw invalidArgument('family', 'is bad');
        if (req.family === 'boom') throw new Error('kaboom');
        await new Promise((r) => setTimeout(r, delayMs).unref());
        return { tasks: [] };
      }),
    },
  };
}

const req = (family = 'x'): SampleTasksRequest => ({ family, familyConfig: {}, split: Split.SPLIT_TRAIN, seed: 0, startIndex: 0, count: 1 });

describe('startServer', () => {
  let server: RunningServer;
  afterEach(async () => server?.shutdown(100));

  it('lets in-flight calls finish on shutdown, then refuses new ones', async () => {
    server = await startServer({ label: 't', services: [slowSampler(400)], port: 0 });
    const client = connect(TaskSamplerServiceClient, server.address);
    const inFlight = unaryCall(client, client.sampleTasks, req(), 'slow', { retries: 0 });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const stopped = server.shutdown(5000);
    await expect(inFlight).resolves.toEqual({ tasks: [] });
    await stopped;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    const after = connect(TaskSamplerServiceClient, server.address);
    expect((await rejection(unaryCall(after, after.sampleTasks, req(), 'after', { retries: 0, deadlineMs: 2000 }))).code).toBe('UNAVAILABLE');
    client.close();
    after.close();
  });

  it('cancels calls that outlive the grace period', async () => {
    server = await startServer({ label: 't', services: [slowSampler(5000)], port: 0, log: () => undefined });
    const client = connect(TaskSamplerServiceClient, server.address);
    const inFlight = rejection(unaryCall(client, client.sampleTasks, req(), 'slow', { retries: 0 }));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await server.shutdown(200);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(['CANCELLED', 'UNAVAILABLE']).toContain((await inFlight).code);
    client.close();
  });

  it('maps typed errors to their status and anything else to INTERNAL, and keeps serving', async () => {
    server = await startServer({ label: 't', services: [slowSampler(1)], port: 0 });
    const client = connect(TaskSamplerServiceClient, server.address);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await rejection(unaryCall(client, client.sampleTasks, req('bad'), 'c', { retries: 0 }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'c: family: is bad' });
    expect(await rejection(unaryCall(client, client.sampleTasks, req('boom'), 'c', { retries: 0 }))).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/internal error: kaboom/) });
    // Unexpected errors are logged with their stack for the operator; typed ones are not.
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(/\[SampleTasks\] internal error: Error: kaboom/);
    stderr.mockRestore();
    expect(await healthStatus(server.address, '')).toBe('SERVING');
    await expect(unaryCall(client, client.sampleTasks, req(), 'c', { retries: 0 })).resolves.toEqual({ tasks: [] });
    client.close();
  });

  it('reports health for the server and each hosted service, and NOT_FOUND for others', async () => {
    server = await startServer({ label: 't', services: [slowSampler(1)], port: 0 });
    expect(await healthStatus(server.address, '')).toBe('SERVING');
    expect(await healthStatus(server.address, 'chameleon.v1.TaskSamplerService')).toBe('SERVING');
    expect((await rejection(healthStatus(server.address, 'chameleon.v1.LearnerService'))).code).toBe(grpc.status.NOT_FOUND);
  });

  it('serves reflection: a client can list the services without the .proto files', async () => {
    server = await startServer({ label: 't', services: [slowSampler(1)], port: 0 });
    const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    const def = protoLoader.loadSync(reflectionProto, { keepCase: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
    const client = new pkg.grpc.reflection.v1.ServerReflection(server.address, grpc.credentials.createInsecure());
    const names = await new Promise<string[]>((resolve, reject) => {
      const call = (client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, { list_services_response?: { service: Array<{ name: string }> } }> }).ServerReflectionInfo();
      call.on('data', (m: { list_services_response?: { service: Array<{ name: string }> } }) => {
        resolve((m.list_services_response?.service ?? []).map((s: { name: string }) => s.name));
        call.end();
      });
      call.on('error', reject);
      call.write({ list_services: '*' });
    });
    // Exactly what this server hosts, not every service of the package.
    expect(names.sort()).toEqual(['chameleon.v1.TaskSamplerService', 'grpc.health.v1.Health']);
    client.close();
  });
});
