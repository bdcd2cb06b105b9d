import { metrics as otelMetrics } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { metrics, resetMetrics } from './metrics';
import { ATTR, METRIC } from './names';

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

describe('metrics()', () => {
  const reader = new TestReader();

  beforeAll(() => {
    otelMetrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    resetMetrics();
  });

  async function collect(): Promise<Record<string, MetricData>> {
    const { resourceMetrics } = await reader.collect();
    return Object.fromEntries(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
  }

  it('records loss, rate, iteration count and per-phase durations under the METRIC names', async () => {
    const attributes = { [ATTR.RUN_ID]: 'r1' };
    metrics().recordIteration({ metaLoss: 0.5, iterationsPerSecond: 40, phaseSeconds: { adapt: 0.01, meta_update: 0.002 }, attributes });
    metrics().recordIteration({ metaLoss: 0.25, iterationsPerSecond: 50, phaseSeconds: { adapt: 0.03 }, attributes });
    metrics().recordValidation(0.7, attributes);
    const m = await collect();

    expect(m[METRIC.META_LOSS].dataPoints.map((p) => [p.value, p.attributes])).toEqual([[0.25, attributes]]);
    expect(m[METRIC.ITERATIONS_PER_SECOND].dataPoints[0].value).toBe(50);
    expect(m[METRIC.ITERATIONS].dataPoints[0].value).toBe(2);
    expect(m[METRIC.VALIDATION_LOSS].dataPoints[0].value).toBe(0.7);

    const phase = m[METRIC.PHASE_DURATION];
    expect(phase.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(phase.descriptor.unit).toBe('s');
    const byPhase = Object.fromEntries(phase.dataPoints.map((p) => [p.attributes[ATTR.PHASE], p.value]));
    expect(byPhase.adapt).toMatchObject({ count: 2, sum: expect.closeTo(0.04, 9), min: 0.01, max: 0.03 });
    expect(byPhase.meta_update).toMatchObject({ count: 1, sum: 0.002 });
    expect(phase.dataPoints.every((p) => p.attributes[ATTR.RUN_ID] === 'r1')).toBe(true);
  });
});
