import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readSpans, type SpanRecord } from './span-record';

const run = promisify(execFile);
const WORKSPACE = resolve(__dirname, '../../..');
const FIXTURE = resolve(__dirname, '../test-fixtures/grpc-propagation.ts');

/**
 * Jest's module loader bypasses the instrumentation's require hooks, so @grpc/grpc-js is only
 * patched in a real Node process: the fixture runs a server and client there and writes a trace.
 */
describe('gRPC trace context propagation (child process)', () => {
  let spans: SpanRecord[];
  let out: { rootTraceId: string; grpcLoadedBeforeInit: boolean };

  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'telemetry-grpc-')), 'trace.jsonl');
    const { stdout } = await run(process.execPath, ['-r', '@swc-node/register', FIXTURE, file], {
      cwd: WORKSPACE,
      env: { ...process.env, SWC_NODE_PROJECT: join(WORKSPACE, 'tsconfig.json'), OTEL_EXPORTER_OTLP_ENDPOINT: '' },
      timeout: 15_000,
    });
    out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    spans = readSpans(file);
  }, 20_000);

  const find = (kind: SpanRecord['kind'], rpcService: string) => {
    const span = spans.find((s) => s.kind === kind && s.attributes['rpc.service'] === rpcService);
    if (span === undefined) throw new Error(`no ${kind} span for ${rpcService} in ${JSON.stringify(spans.map((s) => s.name))}`);
    return span;
  };

  it('ran the fixture with grpc loaded after initTelemetry', () => {
    expect(out.grpcLoadedBeforeInit).toBe(false);
    expect(out.rootTraceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([
    ['chameleon.v1.TaskSamplerService', 'SampleTasks', 'task-sampler'],
    ['chameleon.v1.LearnerService', 'Adapt', 'learner'],
  ])('%s: client and server spans join the root trace; the server span is the client span\'s child', (rpcService, method, service) => {
    const root = spans.find((s) => s.name === 'meta_iteration');
    expect(root).toBeDefined();
    expect(root!.parentSpanId).toBeNull();
    expect(root!.traceId).toBe(out.rootTraceId);

    const client = find('CLIENT', rpcService);
    const server = find('SERVER', rpcService);
    expect(client.traceId).toBe(root!.traceId);
    expect(client.parentSpanId).toBe(root!.spanId);
    expect(server.traceId).toBe(root!.traceId);
    expect(server.parentSpanId).toBe(client.spanId);
    expect(server.attributes['rpc.method']).toBe(method);
    expect(server.service).toBe(service);
    expect(client.service).toBe('fixture-process');
    expect(root!.service).toBe('fixture-process');
  });

  it('labels work done inside a handler with the handler\'s service', () => {
    const server = find('SERVER', 'chameleon.v1.TaskSamplerService');
    const inner = spans.find((s) => s.name === 'sample_tasks');
    expect(inner?.parentSpanId).toBe(server.spanId);
    expect(inner?.service).toBe('task-sampler');
  });
});
