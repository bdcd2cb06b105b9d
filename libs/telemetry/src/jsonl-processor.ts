import type { Context } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { JsonlSpanExporter } from './jsonl-exporter';

/** Batching knobs of `JsonlSpanProcessor`. */
export interface JsonlProcessorOptions {
  /** Spans buffered before a write is forced. Default 512. */
  maxBatch?: number;
  /** Longest time a finished span waits in the buffer, in ms. Default 1000. */
  flushDelayMs?: number;
}

/**
 * Buffers finished spans and hands them to a `JsonlSpanExporter` in batches. Unlike a
 * `BatchSpanProcessor` it drops a span at `onEnd` (one comparison) while no file is set, flushes
 * to the old file before the file changes, and flushes synchronously on process exit.
 *
 * @example
 * ```ts
 * const files = new JsonlSpanProcessor(new JsonlSpanExporter());
 * files.setFile('runs/r1/trace.jsonl'); // once the run folder is known
 * ```
 */
export class JsonlSpanProcessor implements SpanProcessor {
  private buffer: ReadableSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private warned = false;
  private readonly maxBatch: number;
  private readonly flushDelayMs: number;
  private readonly onExit = (): void => this.flush();

  constructor(readonly exporter: JsonlSpanExporter, options: JsonlProcessorOptions = {}) {
    this.maxBatch = options.maxBatch ?? 512;
    this.flushDelayMs = options.flushDelayMs ?? 1000;
    // Spans of a process that exits without awaiting shutdown() would otherwise be lost.
    process.on('exit', this.onExit);
  }

  /** Flushes buffered spans to the current file, then sends later spans to `file` (undefined drops them). */
  setFile(file: string | undefined): void {
    this.flush();
    this.exporter.setFile(file);
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.exporter.file === undefined) return;
    this.buffer.push(span);
    if (this.buffer.length >= this.maxBatch) {
      this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(this.onExit, this.flushDelayMs);
      this.timer.unref();
    }
  }

  /** Writes everything buffered now; synchronous, because the exporter is. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.exporter.export(batch, (result) => {
      // A trace write failure must not stop training; say so once rather than per batch.
      if (result.code !== ExportResultCode.SUCCESS && !this.warned) {
        this.warned = true;
        process.stderr.write(`telemetry: cannot write spans to ${this.exporter.file}: ${result.error?.message}\n`);
      }
    });
  }

  async forceFlush(): Promise<void> {
    this.flush();
  }

  async shutdown(): Promise<void> {
    this.flush();
    process.off('exit', this.onExit);
    await this.exporter.shutdown();
  }
}
