/**
 * Every span name, metric name and attribute key Chameleon emits, in one place, so that
 * dashboards, the report and the code cannot drift apart.
 *
 * @example
 * ```ts
 * await withSpan(SPAN.META_ITERATION, { [ATTR.ITERATION]: i }, () => step(), { root: true });
 * ```
 */

/** Span names of the meta-learning loop (gRPC spans are named by the instrumentation). */
export const SPAN = {
  META_ITERATION: 'meta_iteration',
  SAMPLE_TASKS: 'sample_tasks',
  FETCH_DATA: 'fetch_data',
  META_GRADIENT: 'meta_gradient',
  META_UPDATE: 'meta_update',
  VALIDATE: 'validate',
  CHECKPOINT: 'checkpoint',
  ADAPT: 'adapt',
  EVALUATE: 'evaluate',
  INNER_LOOP: 'inner_loop',
  OUTER_GRADIENT: 'outer_gradient',
} as const;

/** Metric instrument names; see `metrics()` for the instrument kind behind each. */
export const METRIC = {
  /** Gauge: mean query loss of the last meta-iteration. */
  META_LOSS: 'chameleon.meta.loss',
  /** Gauge: meta-iterations per second, measured by the loop. */
  ITERATIONS_PER_SECOND: 'chameleon.meta.iterations_per_second',
  /** Histogram, seconds, attribute `chameleon.phase`: duration of each phase of an iteration. */
  PHASE_DURATION: 'chameleon.meta.phase.duration',
  /** Counter: meta-iterations completed. */
  ITERATIONS: 'chameleon.meta.iterations',
  /** Gauge: loss on the validation tasks. */
  VALIDATION_LOSS: 'chameleon.meta.validation.loss',
} as const;

/** Span and metric attribute keys. */
export const ATTR = {
  RUN_ID: 'chameleon.run_id',
  ITERATION: 'chameleon.iteration',
  PHASE: 'chameleon.phase',
  /** Which Chameleon service did the work; read by `JsonlSpanExporter` (see `spanService`). */
  SERVICE: 'chameleon.service',
  ALGORITHM: 'chameleon.algorithm',
  BACKEND: 'chameleon.backend',
  TASKS: 'chameleon.tasks',
} as const;

/** Attribute keys set by `@opentelemetry/instrumentation-grpc` 0.223 on client and server spans. */
export const RPC_ATTR = {
  SYSTEM: 'rpc.system',
  /** Fully qualified service, e.g. `chameleon.v1.LearnerService`. */
  SERVICE: 'rpc.service',
  /** Bare method name, e.g. `Adapt`. */
  METHOD: 'rpc.method',
  STATUS_CODE: 'rpc.grpc.status_code',
} as const;
