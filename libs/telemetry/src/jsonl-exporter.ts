import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SpanKind, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { spanService } from './service-name';
import type { SpanKindName, SpanRecord } from './span-record';

const KIND_NAMES: Record<SpanKind, SpanKindName> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

// String concatenation keeps full nanosecond precision, which a number (or hrTimeToNanoseconds) loses.
function unixNano([seconds, nanos]: HrTime): string {
  return seconds === 0 ? String(nanos) : `${seconds}${String(nanos).padStart(9, '0')}`;
}

/**
 * Converts a finished span to its trace-file record (`service` from `spanService`).
 *
 * @example
 * ```ts
 * const lines = spans.map((s) => JSON.stringify(toSpanRecord(s))).join('\n');
 * ```
 */
export function toSpanRecord(span: ReadableSpan): SpanRecord {
  const ctx = span.spanContext();
  const status: SpanRecord['status'] = { code: span.status.code };
  if (span.status.message !== undefined) status.message = span.status.message;
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: KIND_NAMES[span.kind] ?? 'INTERNAL',
    service: spanService(span),
    startUnixNano: unixNano(span.startTime),
    endUnixNano: unixNano(span.endTime),
    durationMs: span.duration[0] * 1e3 + span.duration[1] / 1e6,
    attributes: { ...span.attributes },
    status,
  };
}

/**
 * A `SpanExporter` that appends one JSON object per span per line (`SpanRecord`) to a file.
 * `export` writes synchronously in one append per batch, so batches stay in order and a flush
 * before `process.exit` is complete; feed it batches (e.g. through `JsonlSpanProcessor` or a
 * `BatchSpanProcessor`) to keep the event loop free. With no file set, spans are dropped.
 *
 * @example
 * ```ts
 * const exporter = new JsonlSpanExporter('runs/r1/trace.jsonl');
 * const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
 * ```
 */
export class JsonlSpanExporter implements SpanExporter {
  private target: string | undefined;
  private stopped = false;

  constructor(file?: string) {
    this.target = file;
  }

  /** The file spans are appended to, or undefined when spans are dropped. */
  get file(): string | undefined {
    return this.target;
  }

  /** Redirects later batches to `file`; undefined drops them. The parent folder is created on first write. */
  setFile(file: string | undefined): void {
    this.target = file;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const file = this.target;
    if (this.stopped || file === undefined || spans.length === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    try {
      let text = '';
      for (const span of spans) text += JSON.stringify(toSpanRecord(span)) + '\n';
      append(file, text);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async forceFlush(): Promise<void> {
    // Nothing is buffered here: every export has already reached the file.
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }
}

function append(file: string, text: string): void {
  try {
    appendFileSync(file, text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, text);
  }
}
