import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTelemetry } from './init';
import { ATTR } from './names';
import { readSpans, type SpanRecord } from './span-record';
import { currentTraceId, withSpan } from './spans';

const dir = mkdtempSync(join(tmpdir(), 'telemetry-spans-'));
const telemetry = initTelemetry({ serviceName: 'spans-test', instrumentGrpc: false });

/** Points the trace at a fresh file, runs `body`, flushes, and returns the spans written. */
async function capture(body: () => Promise<unknown>): Promise<Record<string, SpanRecord>> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.jsonl`);
  telemetry.setTraceFile(file);
  await body();
  await telemetry.forceFlush();
  telemetry.setTraceFile(undefined);
  return Object.fromEntries(readSpans(file).map((s) => [s.name, s]));
}

const tick = () => new Promise((r) => setTimeout(r, 1));

afterAll(() => telemetry.shutdown());

describe('withSpan', () => {
  it('nests spans across await: children share the trace id and name their parent', async () => {
    const spans = await capture(() =>
      withSpan('parent', { [ATTR.ITERATION]: 7 }, async () => {
        await tick();
        await withSpan('child', {}, async () => {
          await tick();
          await withSpan('grandchild', {}, () => 'sync result');
        });
      }),
    );
    const { parent, child, grandchild } = spans;
    expect(parent.parentSpanId).toBeNull();
    expect(parent.attributes).toEqual({ [ATTR.ITERATION]: 7 });
    expect(child.traceId).toBe(parent.traceId);
    expect(child.parentSpanId).toBe(parent.spanId);
    expect(grandchild.traceId).toBe(parent.traceId);
    expect(grandchild.parentSpanId).toBe(child.spanId);
    expect(parent.durationMs).toBeGreaterThanOrEqual(child.durationMs);
  });

  it('returns the value of fn, sync or async', async () => {
    await expect(withSpan('v', {}, () => 42)).resolves.toBe(42);
    await expect(withSpan('v', {}, async () => 'x')).resolves.toBe('x');
  });

  it('root: true starts a new trace inside another span', async () => {
    let outerTrace: string | undefined;
    let rootTrace: string | undefined;
    const spans = await capture(() =>
      withSpan('outer', {}, async () => {
        outerTrace = currentTraceId();
        await withSpan('iteration', {}, async () => {
          rootTrace = currentTraceId();
          await withSpan('phase', {}, tick);
        }, { root: true });
      }),
    );
    expect(spans.iteration.parentSpanId).toBeNull();
    expect(spans.iteration.traceId).not.toBe(spans.outer.traceId);
    expect(spans.phase.traceId).toBe(spans.iteration.traceId);
    expect(spans.phase.parentSpanId).toBe(spans.iteration.spanId);
    expect(outerTrace).toBe(spans.outer.traceId);
    expect(rootTrace).toBe(spans.iteration.traceId);
  });

  it('records a thrown error as ERROR status, rethrows it, and still ends the span', async () => {
    const error = new Error('meta-gradient exploded');
    let caught: unknown;
    const spans = await capture(async () => {
      try {
        await withSpan('failing', {}, async () => {
          await tick();
          throw error;
        });
      } catch (e) {
        caught = e;
      }
      await withSpan('throwing-string', {}, () => {
        throw 'plain string';
      }).catch(() => undefined);
    });
    expect(caught).toBe(error);
    expect(spans.failing.status).toEqual({ code: 2, message: 'meta-gradient exploded' });
    expect(spans['throwing-string'].status).toEqual({ code: 2, message: 'plain string' });
  });
});

describe('currentTraceId', () => {
  it('is undefined outside any span', () => {
    expect(currentTraceId()).toBeUndefined();
  });
});

describe('service labels', () => {
  it('children inherit chameleon.service from their in-process parent unless they name their own', async () => {
    const spans = await capture(() =>
      withSpan('handler', { [ATTR.SERVICE]: 'learner' }, async () => {
        await withSpan('adapt', {}, async () => {
          await withSpan('inner_loop', {}, tick);
        });
        await withSpan('other', { [ATTR.SERVICE]: 'evaluator' }, tick);
      }),
    );
    expect(spans.adapt.service).toBe('learner');
    expect(spans.inner_loop.service).toBe('learner');
    expect(spans.other.service).toBe('evaluator');
    const unlabelled = await capture(() => withSpan('lonely', {}, tick));
    expect(unlabelled.lonely.service).toBe('spans-test');
  });
});

describe('JSONL path overhead', () => {
  // CPU time, best of three rounds: wall time on a shared 2-core runner measured 10-18x worse
  // whenever another job (tsc, another jest worker) competed for the cores.
  it('costs well under 100 us of CPU per span, writes included (about 10 us measured)', async () => {
    const n = 2_000;
    const file = join(dir, 'overhead.jsonl');
    telemetry.setTraceFile(file);
    const rounds: number[] = [];
    for (let round = 0; round < 3; round++) {
      const before = process.cpuUsage();
      await withSpan('overhead-root', {}, async () => {
        for (let i = 0; i < n; i++) await withSpan('overhead', { [ATTR.ITERATION]: i, [ATTR.PHASE]: 'adapt' }, () => i);
      });
      await telemetry.forceFlush();
      const used = process.cpuUsage(before);
      rounds.push((used.user + used.system) / n);
    }
    telemetry.setTraceFile(undefined);
    expect(readSpans(file)).toHaveLength(3 * (n + 1));
    expect(Math.min(...rounds)).toBeLessThan(100);
  });
});

describe('initTelemetry', () => {
  it('is idempotent: a second call returns the first handle', () => {
    expect(initTelemetry({ serviceName: 'someone-else', traceFile: join(dir, 'ignored.jsonl') })).toBe(telemetry);
    expect(telemetry.serviceName).toBe('spans-test');
    expect(telemetry.traceFile).toBeUndefined();
  });

  it('setTraceFile flushes buffered spans to the old file before switching; no file drops spans', async () => {
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    await withSpan('nowhere', {}, tick);
    telemetry.setTraceFile(a);
    await withSpan('to-a', {}, tick);
    telemetry.setTraceFile(b);
    expect(readSpans(a).map((s) => s.name)).toEqual(['to-a']);
    await withSpan('to-b', {}, tick);
    telemetry.setTraceFile(undefined);
    await withSpan('dropped', {}, tick);
    await telemetry.forceFlush();
    expect(readSpans(a).map((s) => s.name)).toEqual(['to-a']);
    expect(readSpans(b).map((s) => s.name)).toEqual(['to-b']);
    expect(existsSync(join(dir, 'ignored.jsonl'))).toBe(false);
  });
});
