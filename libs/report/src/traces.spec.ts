import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickTrace, quickSpanFields, selectWaterfallTrace, toWaterfall, TraceCandidate } from './traces';
import { BEST_TRACE_ID, writeRunFixture } from './testing/run-fixture';
import type { SpanRecord } from './types';

const candidate = (traceId: string, services: number, start: bigint | undefined, order = 0): TraceCandidate => ({
  traceId,
  services: Array.from({ length: services }, (_, i) => `s${i}`),
  rootStartNs: start,
  order,
});

describe('pickTrace', () => {
  it('prefers the most services, then the latest root start, then the later root in the file', () => {
    expect(pickTrace([candidate('a', 2, 5n), candidate('b', 3, 1n), candidate('c', 1, 9n)])?.traceId).toBe('b');
    expect(pickTrace([candidate('a', 3, 5n), candidate('b', 3, 9n), candidate('c', 3, 7n)])?.traceId).toBe('b');
    expect(pickTrace([candidate('a', 3, 5n, 2), candidate('b', 3, 5n, 1)])?.traceId).toBe('a');
  });

  it('with a preferred phase (RL runs: meta-train), a root of that phase wins first, without it nothing changes', () => {
    const train = { ...candidate('train', 3, 1n), phase: 'meta-train' };
    const later = { ...candidate('baseline', 4, 9n), phase: 'baseline' };
    expect(pickTrace([train, later], 'meta-train')?.traceId).toBe('train');
    expect(pickTrace([train, later])?.traceId).toBe('baseline');
    expect(pickTrace([later], 'meta-train')?.traceId).toBe('baseline');
  });

  it('ignores traces without a meta_iteration root', () => {
    expect(pickTrace([candidate('health', 9, undefined), candidate('a', 1, 1n)])?.traceId).toBe('a');
    expect(pickTrace([candidate('health', 9, undefined)])).toBeUndefined();
  });
});

describe('quickSpanFields', () => {
  const span = { traceId: 'abc', spanId: 's', parentSpanId: 'p', name: 'rpc', service: 'learner', attributes: { 'rpc.service': 'x' } };

  it('reads traceId and service from a plain span line, with or without spaces', () => {
    expect(quickSpanFields(JSON.stringify(span))).toEqual({ traceId: 'abc', service: 'learner' });
    expect(quickSpanFields(JSON.stringify(span, null, 1).replace(/\n/g, ''))).toEqual({ traceId: 'abc', service: 'learner' });
  });

  it('declines (so the line gets parsed) whenever the text could mislead', () => {
    expect(quickSpanFields(JSON.stringify({ ...span, attributes: { service: 'other' } }))).toBeUndefined();
    expect(quickSpanFields(JSON.stringify({ ...span, service: 'odd "name"' }))).toBeUndefined();
    expect(quickSpanFields(JSON.stringify({ ...span, name: 'meta_iteration' }))).toBeUndefined();
    expect(quickSpanFields(JSON.stringify(span).slice(0, -5))).toBeUndefined();
  });
});

describe('toWaterfall', () => {
  const span = (spanId: string, parent: string | null, name: string, startMs: number, endMs: number): SpanRecord => ({
    traceId: 't',
    spanId,
    parentSpanId: parent,
    name,
    service: 'svc',
    startUnixNano: String(1_700_000_000_000_000_000n + BigInt(startMs * 1e6)),
    endUnixNano: String(1_700_000_000_000_000_000n + BigInt(endMs * 1e6)),
  });

  it('times spans in ms from the root, orders them by start and nests them by parent', () => {
    const { spans, omitted } = toWaterfall([
      span('c', 'b', 'leaf', 12, 13),
      span('b', 'r', 'child', 10, 20),
      span('r', null, 'meta_iteration', 5, 30),
      span('o', 'gone', 'orphan', 6, 7),
    ]);
    expect(omitted).toBe(0);
    expect(spans.map((s) => [s.name, s.depth, s.startMs, s.endMs])).toEqual([
      ['meta_iteration', 0, 0, 25],
      ['orphan', 0, 1, 2],
      ['child', 1, 5, 15],
      ['leaf', 2, 7, 8],
    ]);
  });

  it('caps the rows and counts what it left out', () => {
    const many = [span('r', null, 'meta_iteration', 0, 100), ...Array.from({ length: 30 }, (_, i) => span(`s${i}`, 'r', 'x', i, i + 1))];
    const { spans, omitted } = toWaterfall(many, 10);
    expect(spans).toHaveLength(10);
    expect(omitted).toBe(21);
  });
});

describe('selectWaterfallTrace', () => {
  it('streams the file, picks the 4-service iteration and keeps only its spans', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-traces-'));
    writeRunFixture(dir, { files: { metrics: false, eval: false, run: false } });
    const { selected, stats } = await selectWaterfallTrace(join(dir, 'traces.jsonl'));
    expect(stats.badCount).toBe(1);
    expect(selected?.traceId).toBe(BEST_TRACE_ID);
    expect(selected?.iteration).toBe(7);
    expect(selected?.candidates).toBe(5);
    expect(selected?.services).toEqual(['environment-simulator', 'learner', 'meta-optimiser', 'task-sampler']);
    expect(selected?.spans).toHaveLength(9);
    expect(selected?.spans[0]).toMatchObject({ name: 'meta_iteration', depth: 0, startMs: 0, endMs: 40 });
  });

  it('breaks a tie on services by the latest root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-traces-'));
    const line = (traceId: string, service: string, name: string, startNs: bigint, parent: string | null = null) =>
      JSON.stringify({ traceId, spanId: `${traceId}-${name}`, parentSpanId: parent, name, service, startUnixNano: String(startNs), endUnixNano: String(startNs + 1000n) });
    const path = join(dir, 'traces.jsonl');
    writeFileSync(
      path,
      [
        line('late', 'a', 'meta_iteration', 2000n),
        line('late', 'b', 'x', 2100n, 'late-meta_iteration'),
        line('early', 'a', 'meta_iteration', 1000n),
        line('early', 'c', 'x', 1100n, 'early-meta_iteration'),
      ].join('\n'),
    );
    expect((await selectWaterfallTrace(path)).selected?.traceId).toBe('late');
  });
});
