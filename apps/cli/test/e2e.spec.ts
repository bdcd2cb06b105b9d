import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readSpans, type SpanRecord } from '@chameleon/telemetry';
import { runCli, spawnService, type ServiceProcess } from './processes';
import { smallConfig, tmp } from './helpers';

const FIVE = ['task-sampler', 'environment-simulator', 'learner', 'meta-optimiser', 'evaluator'];

/**
 * The five services as five OS processes: a short training through them must work, and one
 * meta-iteration's trace id must cover spans from all five (context propagated over gRPC).
 */
describe('five services in five processes', () => {
  const dir = tmp('e2e');
  const trace = (name: string) => join(dir, `${name}.jsonl`);
  const procs: ServiceProcess[] = [];

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  });

  it('trains across the processes, and one trace id covers all five services', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: '' };
    const ts = await spawnService('task-sampler', ['--trace-file', trace('task-sampler')], env);
    const es = await spawnService('environment-simulator', ['--trace-file', trace('environment-simulator')], env);
    const ln = await spawnService('learner', ['--trace-file', trace('learner'), '--backend', 'wasm'], env);
    procs.push(ts, es, ln);
    const peers = ['--task-sampler', ts.address, '--simulators', es.address, '--learner', ln.address];
    const ev = await spawnService('evaluator', [...peers, '--trace-file', trace('evaluator')], env);
    procs.push(ev);
    const mo = await spawnService('meta-optimiser', [...peers, '--evaluator', ev.address, '--runs-dir', join(dir, 'runs'), '--trace-file', trace('meta-optimiser')], env);
    procs.push(mo);
    const services = join(dir, 'services.yaml');
    writeFileSync(services, stringify({ taskSampler: ts.address, simulators: [es.address], learner: ln.address, evaluator: ev.address, metaOptimiser: mo.address }));
    const config = join(dir, 'run.yaml');
    writeFileSync(config, stringify(smallConfig({ validation: { every: 2, tasks: 4 }, baseline: { iterations: 1 }, evaluation: { enabled: true, tasks: 8, querySize: 10, steps: 2, examples: 1 } })));
    const out = join(dir, 'run');
    const cli = await runCli(['train', '--config', config, '--services', services, '--out', out]);
    expect(cli.stderr).toMatch(/RUN_STATE_COMPLETED/);
    expect(cli.code).toBe(0);
    for (const f of ['metrics.jsonl', 'eval.json', 'run.json', 'report.html', 'traces.jsonl']) expect(existsSync(join(out, f))).toBe(true);

    // Graceful shutdown flushes every process's spans.
    const codes = await Promise.all(procs.splice(0).map((p) => p.stop('SIGTERM')));
    expect(codes).toEqual([0, 0, 0, 0, 0]);

    const spans: SpanRecord[] = [...FIVE.flatMap((s) => readSpans(trace(s))), ...readSpans(join(out, 'traces.jsonl'))];
    const byTrace = new Map<string, SpanRecord[]>();
    for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
    const iterations = [...byTrace.values()].filter((t) => t.some((s) => s.name === 'meta_iteration' && !s.parentSpanId));
    // 4 meta-train iterations and 1 baseline iteration, each its own trace.
    expect(iterations).toHaveLength(5);
    for (const t of iterations) {
      const services = new Set(t.map((s) => s.service));
      for (const s of ['task-sampler', 'environment-simulator', 'learner', 'meta-optimiser']) expect(services).toContain(s);
    }
    // Validation runs inside iterations 2 and 4: those traces reach the evaluator too.
    const all = iterations.filter((t) => FIVE.every((s) => t.some((x) => x.service === s)));
    expect(all).toHaveLength(2);
    // Every span of such a trace hangs off its root: parents exist within the trace.
    for (const t of all) {
      const ids = new Set(t.map((s) => s.spanId));
      expect(t.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId))).toEqual([]);
    }
  }, 240_000);
});
