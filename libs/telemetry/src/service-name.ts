import { SpanKind, type Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { ATTR, RPC_ATTR } from './names';

/** gRPC packages whose services are Chameleon services (their server spans name the service). */
const CHAMELEON_RPC_PREFIX = 'chameleon.';

/**
 * Short service name of a fully qualified gRPC service: the last segment without its `Service`
 * suffix, in kebab-case.
 *
 * @example
 * ```ts
 * serviceFromRpcService('chameleon.v1.TaskSamplerService'); // 'task-sampler'
 * ```
 */
export function serviceFromRpcService(rpcService: string): string {
  const last = rpcService.slice(rpcService.lastIndexOf('.') + 1);
  const bare = last.length > 'Service'.length && last.endsWith('Service') ? last.slice(0, -'Service'.length) : last;
  return bare
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** The parts of a span that decide its service; both SDK spans and ReadableSpans have them. */
export interface ServiceSource {
  readonly kind: SpanKind;
  readonly attributes: Attributes;
}

/**
 * Service named by the span itself, or undefined: a SERVER span of a `chameleon.*` gRPC service
 * is named after `rpc.service`; any other span by its `chameleon.service` attribute.
 *
 * @example
 * ```ts
 * ownService({ kind: SpanKind.INTERNAL, attributes: { [ATTR.SERVICE]: 'evaluator' } }); // 'evaluator'
 * ```
 */
export function ownService(span: ServiceSource): string | undefined {
  const rpcService = span.attributes[RPC_ATTR.SERVICE];
  if (span.kind === SpanKind.SERVER && typeof rpcService === 'string' && rpcService.startsWith(CHAMELEON_RPC_PREFIX)) {
    return serviceFromRpcService(rpcService);
  }
  const explicit = span.attributes[ATTR.SERVICE];
  return typeof explicit === 'string' && explicit !== '' ? explicit : undefined;
}

/**
 * Which Chameleon service did the work of a span: `ownService(span)`, else the resource's
 * `service.name`. Embedded mode runs all services under one provider, so the resource alone
 * cannot tell them apart.
 *
 * @example
 * ```ts
 * spanService(readableSpan); // 'learner' for a chameleon.v1.LearnerService SERVER span
 * ```
 */
export function spanService(span: ServiceSource & { readonly resource: Resource }): string {
  return ownService(span) ?? String(span.resource.attributes[ATTR_SERVICE_NAME] ?? 'unknown');
}
