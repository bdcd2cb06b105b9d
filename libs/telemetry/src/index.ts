/**
 * @chameleon/telemetry: OpenTelemetry tracing and metrics for Chameleon's services.
 * Call `initTelemetry` before anything loads `@grpc/grpc-js`; see README.md.
 */
export { initTelemetry, type TelemetryHandle, type TelemetryOptions } from './init';
export { JsonlSpanExporter, toSpanRecord } from './jsonl-exporter';
export { JsonlSpanProcessor, type JsonlProcessorOptions } from './jsonl-processor';
export { readSpans, type SpanKindName, type SpanRecord } from './span-record';
export { serviceFromRpcService, spanService } from './service-name';
export { ServiceLabelProcessor } from './service-processor';
export { ATTR, METRIC, RPC_ATTR, SPAN } from './names';
export { currentTraceId, tracer, withSpan, TRACER_NAME, type WithSpanOptions } from './spans';
export { metrics, type ChameleonMetrics, type IterationMetrics } from './metrics';
