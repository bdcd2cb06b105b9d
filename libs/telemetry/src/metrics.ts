import { metrics as otelMetrics, type Attributes, type Counter, type Gauge, type Histogram } from '@opentelemetry/api';
import { ATTR, METRIC } from './names';

/** One meta-iteration's measurements, as reported by the outer loop. */
export interface IterationMetrics {
  metaLoss: number;
  iterationsPerSecond: number;
  /** Seconds spent in each phase of the iteration, keyed by phase (e.g. SPAN.SAMPLE_TASKS). */
  phaseSeconds: Record<string, number>;
  /** Attributes added to every data point, e.g. `{ [ATTR.RUN_ID]: runId }`. Keep them low-cardinality. */
  attributes?: Attributes;
}

/** Chameleon's metric instruments; see `metrics()`. */
export interface ChameleonMetrics {
  /** Records loss (gauge), rate (gauge), one more iteration (counter) and each phase's duration (histogram). */
  recordIteration(m: IterationMetrics): void;
  /** Records the validation loss (gauge). */
  recordValidation(loss: number, attributes?: Attributes): void;
}

interface Instruments {
  loss: Gauge;
  rate: Gauge;
  iterations: Counter;
  phase: Histogram;
  validation: Gauge;
}

const PHASE_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

let instruments: Instruments | undefined;

function create(): Instruments {
  const meter = otelMetrics.getMeter('chameleon');
  return {
    loss: meter.createGauge(METRIC.META_LOSS, { description: 'Mean query loss of the last meta-iteration' }),
    rate: meter.createGauge(METRIC.ITERATIONS_PER_SECOND, { description: 'Meta-iterations per second', unit: '{iteration}/s' }),
    iterations: meter.createCounter(METRIC.ITERATIONS, { description: 'Meta-iterations completed', unit: '{iteration}' }),
    phase: meter.createHistogram(METRIC.PHASE_DURATION, {
      description: 'Duration of each phase of a meta-iteration',
      unit: 's',
      advice: { explicitBucketBoundaries: PHASE_BUCKETS_S },
    }),
    validation: meter.createGauge(METRIC.VALIDATION_LOSS, { description: 'Loss on the validation tasks' }),
  };
}

/**
 * Drops the cached instruments so the next `metrics()` binds to the current global meter
 * provider. The API has no proxy meter: instruments made before a provider is set stay no-ops.
 */
export function resetMetrics(): void {
  instruments = undefined;
}

/**
 * Chameleon's metric instruments, created on first use from the global meter provider (a no-op
 * unless `initTelemetry` configured an OTLP endpoint).
 *
 * @example
 * ```ts
 * metrics().recordIteration({ metaLoss: 0.42, iterationsPerSecond: 48,
 *   phaseSeconds: { sample_tasks: 0.002, meta_gradient: 0.015 }, attributes: { [ATTR.RUN_ID]: id } });
 * ```
 */
export function metrics(): ChameleonMetrics {
  const m = (instruments ??= create());
  return {
    recordIteration({ metaLoss, iterationsPerSecond, phaseSeconds, attributes = {} }) {
      m.loss.record(metaLoss, attributes);
      m.rate.record(iterationsPerSecond, attributes);
      m.iterations.add(1, attributes);
      for (const [phase, seconds] of Object.entries(phaseSeconds)) {
        m.phase.record(seconds, { ...attributes, [ATTR.PHASE]: phase });
      }
    },
    recordValidation(loss, attributes = {}) {
      m.validation.record(loss, attributes);
    },
  };
}
