/**
 * Child-process fixture for grpc-propagation.spec.ts: jest's module loader bypasses the require
 * hooks of the gRPC instrumentation, so propagation can only be observed in a plain Node process.
 *
 * Usage: node -r @swc-node/register grpc-propagation.ts <trace-file>
 * Prints one JSON line: { rootTraceId, grpcLoadedBeforeInit }.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentTraceId, initTelemetry, SPAN, withSpan } from '../src';

// Must run before the first require of @grpc/grpc-js, which is why grpc is required below, not imported.
const grpcLoadedBeforeInit = Object.keys(require.cache).some((k) => k.includes('@grpc/grpc-js'));
const telemetry = initTelemetry({ serviceName: 'fixture-process', traceFile: process.argv[2] });

import type * as GrpcJs from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';
const grpc = require('@grpc/grpc-js') as typeof GrpcJs;
const protoLoader = require('@grpc/proto-loader') as typeof ProtoLoader;

const PROTO = `syntax = "proto3";
package chameleon.v1;
message SampleTasksRequest { uint32 count = 1; }
message SampleTasksResponse { repeated string task_ids = 1; }
service TaskSamplerService { rpc SampleTasks(SampleTasksRequest) returns (SampleTasksResponse); }
`;

/** Shaped like ts-proto's `outputServices=grpc-js` output, which goes through makeGenericClientConstructor. */
const identity = (b: Buffer): Buffer => b;
const LearnerService = {
  adapt: {
    path: '/chameleon.v1.LearnerService/Adapt',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies GrpcJs.ServiceDefinition;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chameleon-telemetry-'));
  writeFileSync(join(dir, 'task_sampler.proto'), PROTO);
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(join(dir, 'task_sampler.proto'))) as any;
  const TaskSampler = pkg.chameleon.v1.TaskSamplerService as GrpcJs.ServiceClientConstructor;

  const server = new grpc.Server();
  server.addService(TaskSampler.service, {
    SampleTasks: (call: GrpcJs.ServerUnaryCall<{ count: number }, unknown>, done: GrpcJs.sendUnaryData<unknown>) => {
      // A child of the server span: ServiceLabelProcessor should label it task-sampler.
      void withSpan(SPAN.SAMPLE_TASKS, {}, async () => {
        await new Promise((r) => setTimeout(r, 2));
        return Array.from({ length: call.request.count }, (_, i) => `task-${i}`);
      }).then((ids) => done(null, { task_ids: ids }));
    },
  });
  server.addService(LearnerService, {
    adapt: (call: GrpcJs.ServerUnaryCall<Buffer, Buffer>, done: GrpcJs.sendUnaryData<Buffer>) => done(null, call.request),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));

  const address = `127.0.0.1:${port}`;
  const sampler = new TaskSampler(address, grpc.credentials.createInsecure());
  const Learner = grpc.makeGenericClientConstructor(LearnerService, 'chameleon.v1.LearnerService');
  const learner = new Learner(address, grpc.credentials.createInsecure()) as any;

  const rootTraceId = await withSpan(SPAN.META_ITERATION, {}, async () => {
    await new Promise((resolve, reject) =>
      (sampler as any).SampleTasks({ count: 3 }, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))));
    await new Promise((resolve, reject) =>
      learner.adapt(Buffer.from([1, 2, 3]), (err: Error | null, res: Buffer) => (err ? reject(err) : resolve(res))));
    return currentTraceId();
  }, { root: true });

  sampler.close();
  learner.close();
  server.forceShutdown();
  await telemetry.shutdown();
  process.stdout.write(JSON.stringify({ rootTraceId, grpcLoadedBeforeInit }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`fixture failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
