import { readFileSync } from 'node:fs';
import type { AttributeValue } from '@opentelemetry/api';

/** Span kind as written in a trace file. */
export type SpanKindName = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';

/**
 * One line of a Chameleon trace file (JSON Lines, one finished span per line).
 * Times are Unix epoch nanoseconds as decimal strings, because they exceed 2^53.
 */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** Null for a root span. The parent may live in another process (remote parent). */
  parentSpanId: string | null;
  name: string;
  kind: SpanKindName;
  /** Chameleon service that did the work, e.g. `learner` (see `spanService`). */
  service: string;
  startUnixNano: string;
  endUnixNano: string;
  durationMs: number;
  attributes: Record<string, AttributeValue | undefined>;
  /** OpenTelemetry status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
}

function isSpanRecord(value: unknown): value is SpanRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.traceId === 'string' && typeof r.spanId === 'string' && typeof r.name === 'string'
    && (r.parentSpanId === null || typeof r.parentSpanId === 'string')
    && typeof r.startUnixNano === 'string' && typeof r.endUnixNano === 'string'
    && typeof r.durationMs === 'number' && typeof r.status === 'object' && r.status !== null;
}

/**
 * Reads a trace file written by `JsonlSpanExporter`. Blank and unparsable lines are skipped
 * (a process killed mid-write leaves a torn last line); a missing file is an error.
 *
 * @example
 * ```ts
 * const slow = readSpans('runs/r1/trace.jsonl').filter((s) => s.durationMs > 100);
 * ```
 */
export function readSpans(file: string): SpanRecord[] {
  const spans: SpanRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (isSpanRecord(parsed)) spans.push(parsed);
  }
  return spans;
}
