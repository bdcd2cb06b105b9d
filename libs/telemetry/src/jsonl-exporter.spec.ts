import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { JsonlSpanExporter } from './jsonl-exporter';
import { ATTR } from './names';
import { serviceFromRpcService } from './service-name';
import { readSpans } from './span-record';

function setup(file?: string) {
  const exporter = new JsonlSpanExporter(file);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'resource-svc' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { exporter, provider, tracer: provider.getTracer('test') };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'jsonl-exporter-'));

describe('serviceFromRpcService', () => {
  it.each([
    ['chameleon.v1.LearnerService', 'learner'],
    ['chameleon.v1.TaskSamplerService', 'task-sampler'],
    ['chameleon.v1.EnvironmentSimulatorService', 'environment-simulator'],
    ['chameleon.v1.MetaOptimiserService', 'meta-optimiser'],
    ['chameleon.v1.EvaluatorService', 'evaluator'],
    ['chameleon.v2.RPCGatewayService', 'rpc-gateway'],
    ['Service', 'service'],
  ])('%s -> %s', (rpcService, expected) => {
    expect(serviceFromRpcService(rpcService)).toBe(expected);
  });
});

describe('JsonlSpanExporter', () => {
  it('writes one record per span with exactly the documented fields', async () => {
    const file = join(tmp(), 'trace.jsonl');
    const { provider, tracer } = setup(file);
    const parent = tracer.startSpan('parent', { startTime: [1_700_000_000, 5] });
    const child = tracer.startSpan(
      'child',
      { kind: SpanKind.CLIENT, attributes: { k: 'v', n: 3, list: [1, 2] }, startTime: [1_700_000_001, 250_000_000] },
      trace.setSpan(ROOT_CONTEXT, parent),
    );
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    child.end([1_700_000_001, 750_000_000]);
    parent.end([1_700_000_002, 0]);
    await provider.forceFlush();

    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    const [c, p] = lines;
    expect(Object.keys(c).sort()).toEqual(
      ['attributes', 'durationMs', 'endUnixNano', 'kind', 'name', 'parentSpanId', 'service', 'spanId', 'startUnixNano', 'status', 'traceId'],
    );
    expect(c).toEqual({
      traceId: parent.spanContext().traceId,
      spanId: child.spanContext().spanId,
      parentSpanId: parent.spanContext().spanId,
      name: 'child',
      kind: 'CLIENT',
      service: 'resource-svc',
      startUnixNano: '1700000001250000000',
      endUnixNano: '1700000001750000000',
      durationMs: 500,
      attributes: { k: 'v', n: 3, list: [1, 2] },
      status: { code: 2, message: 'boom' },
    });
    expect(p.parentSpanId).toBeNull();
    expect(p.kind).toBe('INTERNAL');
    expect(p.startUnixNano).toBe('1700000000000000005');
    expect(p.status).toEqual({ code: 0 });
  });

  it('derives the service from rpc.service on Chameleon SERVER spans, else chameleon.service, else the resource', async () => {
    const file = join(tmp(), 'trace.jsonl');
    const { provider, tracer } = setup(file);
    const make = (name: string, kind: SpanKind, attributes: Record<string, string>) => tracer.startSpan(name, { kind, attributes }).end();
    make('server', SpanKind.SERVER, { 'rpc.service': 'chameleon.v1.EnvironmentSimulatorService', [ATTR.SERVICE]: 'ignored' });
    make('client', SpanKind.CLIENT, { 'rpc.service': 'chameleon.v1.LearnerService' });
    make('labelled', SpanKind.INTERNAL, { [ATTR.SERVICE]: 'meta-optimiser' });
    make('health', SpanKind.SERVER, { 'rpc.service': 'grpc.health.v1.Health' });
    make('plain', SpanKind.INTERNAL, {});
    await provider.forceFlush();

    const byName = Object.fromEntries(readSpans(file).map((s) => [s.name, s.service]));
    expect(byName).toEqual({
      server: 'environment-simulator',
      client: 'resource-svc',
      labelled: 'meta-optimiser',
      health: 'resource-svc',
      plain: 'resource-svc',
    });
  });

  it('drops spans while no file is set and creates the folder of a new file', async () => {
    const dir = tmp();
    const file = join(dir, 'nested', 'run', 'trace.jsonl');
    const { exporter, provider, tracer } = setup();
    tracer.startSpan('dropped').end();
    exporter.setFile(file);
    tracer.startSpan('kept').end();
    exporter.setFile(undefined);
    tracer.startSpan('dropped-too').end();
    await provider.forceFlush();
    expect(readSpans(file).map((s) => s.name)).toEqual(['kept']);
  });

  it('writes nothing after shutdown', async () => {
    const file = join(tmp(), 'trace.jsonl');
    const { provider, tracer } = setup(file);
    await provider.shutdown();
    tracer.startSpan('late').end();
    expect(existsSync(file)).toBe(false);
  });
});

describe('readSpans', () => {
  it('skips blank, corrupt and non-span lines', () => {
    const file = join(tmp(), 'trace.jsonl');
    const record = {
      traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), parentSpanId: null, name: 'ok', kind: 'INTERNAL', service: 's',
      startUnixNano: '1', endUnixNano: '2', durationMs: 0.000001, attributes: {}, status: { code: 0 },
    };
    writeFileSync(file, [JSON.stringify(record), '', '{"traceId": "torn', '[1,2]', '{"name":"x"}', JSON.stringify({ ...record, name: 'ok2' }), ''].join('\n'));
    expect(readSpans(file).map((s) => s.name)).toEqual(['ok', 'ok2']);
  });

  it('throws on a missing file', () => {
    expect(() => readSpans(join(tmp(), 'absent.jsonl'))).toThrow(/ENOENT/);
  });
});
