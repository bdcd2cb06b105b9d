import { SpanStatusCode, isSpanContextValid, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';

/** Instrumentation scope of Chameleon's own spans. */
export const TRACER_NAME = 'chameleon';

let cached: Tracer | undefined;

/**
 * The Chameleon tracer. Safe to call before `initTelemetry` (the API's proxy tracer picks up
 * the provider once it is registered); without a provider its spans are no-ops.
 *
 * @example
 * ```ts
 * const span = tracer().startSpan(SPAN.CHECKPOINT); try { save(); } finally { span.end(); }
 * ```
 */
export function tracer(): Tracer {
  cached ??= trace.getTracer(TRACER_NAME);
  return cached;
}

/** Options of `withSpan`. */
export interface WithSpanOptions {
  /** Start a new trace instead of a child of the active span (one trace per meta-iteration). */
  root?: boolean;
}

function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

/**
 * Runs `fn` inside a new active span: spans started within `fn`, across `await` and in
 * outgoing gRPC calls, become its children. If `fn` throws or rejects, the exception is
 * recorded, the status set to ERROR and the error rethrown; the span always ends.
 *
 * @example
 * ```ts
 * const loss = await withSpan(SPAN.META_ITERATION, { [ATTR.ITERATION]: i }, async () => {
 *   const tasks = await withSpan(SPAN.SAMPLE_TASKS, {}, () => sampler.sample());
 *   return learner.step(tasks);
 * }, { root: true });
 * ```
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
  options: WithSpanOptions = {},
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes, root: options.root ?? false }, async (span) => {
    try {
      return await fn(span);
    } catch (thrown) {
      const error = toError(thrown);
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      throw thrown;
    } finally {
      span.end();
    }
  });
}

/**
 * Trace id of the active span, or undefined outside any (recording or propagated) span.
 * Useful to print next to a run so the trace can be found in Jaeger or the trace file.
 *
 * @example
 * ```ts
 * await withSpan(SPAN.META_ITERATION, {}, () => log(`iteration ${i}, trace ${currentTraceId()}`), { root: true });
 * ```
 */
export function currentTraceId(): string | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx !== undefined && isSpanContextValid(ctx) ? ctx.traceId : undefined;
}
