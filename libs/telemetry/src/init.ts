import { metrics as otelMetrics } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { JsonlSpanExporter } from './jsonl-exporter';
import { JsonlSpanProcessor } from './jsonl-processor';
import { resetMetrics } from './metrics';
import { ServiceLabelProcessor } from './service-processor';

/** Options of `initTelemetry`. */
export interface TelemetryOptions {
  /** Resource `service.name`, e.g. `chameleon` for the CLI or `learner` for a standalone service. */
  serviceName: string;
  /** JSON Lines trace file; may be set or changed later with `handle.setTraceFile`. Default: none (spans dropped). */
  traceFile?: string;
  /** OTLP/gRPC collector, e.g. `http://localhost:4317`; `''` disables. Default: env OTEL_EXPORTER_OTLP_ENDPOINT, else none. */
  otlpEndpoint?: string;
  /** Trace @grpc/grpc-js client and server calls and propagate W3C trace context. Default true. */
  instrumentGrpc?: boolean;
  /** Metric export interval when a collector is configured, in ms. Default 10000. */
  metricsIntervalMs?: number;
  /** Longest wait for one OTLP export, and the bound on `shutdown()` beyond it, in ms. Default 10000. */
  exportTimeoutMs?: number;
}

/** Controls the process-wide telemetry set up by `initTelemetry`. */
export interface TelemetryHandle {
  readonly serviceName: string;
  /** The collector spans and metrics are sent to, or undefined. */
  readonly otlpEndpoint: string | undefined;
  /** The current trace file, or undefined. */
  readonly traceFile: string | undefined;
  /** Writes spans buffered so far to the old file, then appends later spans to `file` (undefined: drop them). */
  setTraceFile(file: string | undefined): void;
  /** Exports everything buffered. Never rejects: export failures are reported on stderr. */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporting. Never rejects, and settles within about `exportTimeoutMs`. */
  shutdown(): Promise<void>;
}

const HANDLE_KEY = Symbol.for('chameleon.telemetry.handle');
type GlobalWithHandle = typeof globalThis & { [HANDLE_KEY]?: TelemetryHandle };

/**
 * Sets up tracing (and metrics, with a collector) for the whole process and returns its handle.
 *
 * LOAD ORDER: call this BEFORE anything requires `@grpc/grpc-js` (including generated clients
 * and `@chameleon/*` libraries that import it). The gRPC instrumentation patches the module
 * through a require hook; a copy loaded earlier stays unpatched, and its calls produce no spans
 * and carry no trace context. TypeScript hoists `import`s, so do it in a module imported first
 * (or `node -r`), never between imports.
 *
 * It registers a global NodeTracerProvider (AsyncLocalStorage context, W3C propagation) with
 * resource `service.name = serviceName`. Spans go to OTLP/gRPC when `otlpEndpoint` or
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (metrics too, periodically), and to the JSON Lines trace
 * file whenever one is set. A second call returns the first handle unchanged: services embedded
 * in one process share one provider.
 *
 * @example
 * ```ts
 * // telemetry.ts, the first import of main.ts
 * export const telemetry = initTelemetry({ serviceName: 'chameleon' });
 * // later, once the run folder is known
 * telemetry.setTraceFile(join(runDir, 'trace.jsonl'));
 * await telemetry.shutdown();
 * ```
 */
export function initTelemetry(opts: TelemetryOptions): TelemetryHandle {
  const g = globalThis as GlobalWithHandle;
  g[HANDLE_KEY] ??= createTelemetry(opts);
  return g[HANDLE_KEY];
}

function createTelemetry(opts: TelemetryOptions): TelemetryHandle {
  const endpoint = (opts.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT) || undefined;
  const target = endpoint ?? 'the trace file';
  const timeoutMs = opts.exportTimeoutMs ?? 10_000;
  const resource = defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName }));

  const files = new JsonlSpanProcessor(new JsonlSpanExporter(opts.traceFile));
  const processors: SpanProcessor[] = [new ServiceLabelProcessor(), files];
  let meterProvider: MeterProvider | undefined;
  // Shut down explicitly: when the final export fails, the BatchSpanProcessor skips its
  // exporter.shutdown(), leaving the exporter's gRPC client open.
  const otlpExporters: { shutdown(): Promise<void> }[] = [];
  if (endpoint !== undefined) {
    reportFirstBackgroundError(endpoint);
    const traceExporter = new OTLPTraceExporter({ url: endpoint, timeoutMillis: timeoutMs });
    const metricExporter = new OTLPMetricExporter({ url: endpoint, timeoutMillis: timeoutMs });
    otlpExporters.push(traceExporter, metricExporter);
    processors.push(new BatchSpanProcessor(traceExporter, { exportTimeoutMillis: timeoutMs, maxQueueSize: 8192 }));
    const intervalMs = opts.metricsIntervalMs ?? 10_000;
    meterProvider = new MeterProvider({
      resource,
      readers: [new PeriodicExportingMetricReader({
        exporter: metricExporter,
        exportIntervalMillis: intervalMs,
        exportTimeoutMillis: Math.min(timeoutMs, intervalMs),
      })],
    });
    otelMetrics.setGlobalMeterProvider(meterProvider);
    resetMetrics();
  }

  const provider = new NodeTracerProvider({ resource, spanProcessors: processors });
  provider.register();
  if (opts.instrumentGrpc ?? true) {
    warnIfGrpcLoaded();
    registerInstrumentations({ tracerProvider: provider, instrumentations: [new GrpcInstrumentation()] });
  }

  const settle = async (what: string, work: (Promise<unknown> | undefined)[]): Promise<void> => {
    const failures = (await Promise.allSettled(work)).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) {
      const reasons = failures.map((f) => oneLine(f.reason));
      process.stderr.write(`telemetry: ${what} could not export to ${target}: ${reasons.join('; ')}\n`);
    }
  };
  let stopping: Promise<void> | undefined;

  return {
    serviceName: opts.serviceName,
    otlpEndpoint: endpoint,
    get traceFile() {
      return files.exporter.file;
    },
    setTraceFile: (file) => files.setFile(file),
    forceFlush: () => settle('flush', [provider.forceFlush(), meterProvider?.forceFlush()]),
    shutdown: () => {
      stopping ??= withDeadline(
        settle('shutdown', [provider.shutdown(), meterProvider?.shutdown()])
          .then(() => Promise.allSettled(otlpExporters.map((e) => e.shutdown())))
          .then(() => undefined),
        timeoutMs + 2_000,
        () => process.stderr.write(`telemetry: shutdown gave up waiting for ${target} after ${timeoutMs + 2_000} ms\n`),
      );
      return stopping;
    },
  };
}

function oneLine(reason: unknown): string {
  return (reason instanceof Error ? reason.message : String(reason)).replace(/\s*\n\s*/g, ' ').trim();
}

// Periodic exports report failures only to the global error handler, which is silent by
// default; a collector that is down for a whole run deserves one line, not thousands.
function reportFirstBackgroundError(endpoint: string): void {
  let reported = false;
  setGlobalErrorHandler((error) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`telemetry: export to ${endpoint} failed (further export errors are not shown): ${oneLine(error)}\n`);
  });
}

/** Resolves when `work` settles or after `ms`, whichever is first; never rejects. */
function withDeadline(work: Promise<void>, ms: number, onTimeout: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, ms);
    timer.unref();
    work.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// The instrumentation only warns through `diag`, which is silent by default; this mistake is
// common and silent, so name it.
function warnIfGrpcLoaded(): void {
  try {
    if (require.cache[require.resolve('@grpc/grpc-js')] !== undefined) {
      process.stderr.write('telemetry: @grpc/grpc-js was loaded before initTelemetry(); gRPC calls made through it will not be traced\n');
    }
  } catch {
    // Not resolvable from here: nothing can have loaded it through this copy either.
  }
}
