import { trace, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ownService, type ServiceSource } from './service-name';
import { ATTR } from './names';

function isServiceSource(span: unknown): span is ServiceSource {
  return typeof span === 'object' && span !== null && 'kind' in span && 'attributes' in span;
}

/**
 * Labels each new span with its in-process parent's service (`chameleon.service`) unless it
 * names its own, so that work done inside a handler (e.g. `adapt` under a LearnerService span)
 * and the client calls it makes are attributed to that service in embedded mode.
 *
 * @example
 * ```ts
 * new NodeTracerProvider({ spanProcessors: [new ServiceLabelProcessor(), exportingProcessor] });
 * ```
 */
export class ServiceLabelProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    if (ownService(span) !== undefined) return;
    // Remote parents are non-recording spans without attributes, so this stays in-process.
    const parent = trace.getSpan(parentContext);
    if (!isServiceSource(parent)) return;
    const inherited = ownService(parent);
    if (inherited !== undefined) span.setAttribute(ATTR.SERVICE, inherited);
  }

  onEnd(_span: ReadableSpan): void {}

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
