import { metrics as otelMetrics } from '@opentelemetry/api';

/** Latency samples in a fixed-size ring: percentiles over the most recent window. */
class Window {
  private readonly values: Float64Array;
  private count = 0;

  constructor(size: number) {
    this.values = new Float64Array(size);
  }

  push(v: number): void {
    this.values[this.count % this.values.length] = v;
    this.count++;
  }

  percentile(p: number): number {
    const n = Math.min(this.count, this.values.length);
    if (!n) return NaN;
    const sorted = Array.from(this.values.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.floor((p / 100) * n))];
  }

  get total(): number {
    return this.count;
  }
}

/** Action latency, adaptation time and live sessions: OpenTelemetry instruments plus a local window for reports. */
export class AgentMetrics {
  private readonly actions = new Window(100_000);
  private readonly adaptations = new Window(10_000);
  private sessions = 0;
  private readonly meter = otelMetrics.getMeter('chameleon');
  private readonly actionHist = this.meter.createHistogram('chameleon.agent.action.latency', { unit: 'ms', description: 'Time to answer one Observe with an action' });
  private readonly adaptHist = this.meter.createHistogram('chameleon.agent.adaptation.duration', { unit: 'ms', description: 'Adaptation between rounds' });
  private readonly sessionGauge = this.meter.createUpDownCounter('chameleon.agent.sessions', { description: 'Live matches' });

  actionLatency(ms: number): void {
    this.actions.push(ms);
    this.actionHist.record(ms);
  }

  adaptation(ms: number): void {
    this.adaptations.push(ms);
    this.adaptHist.record(ms);
  }

  sessionsChanged(delta: number): void {
    this.sessions += delta;
    this.sessionGauge.add(delta);
  }

  snapshot() {
    return {
      sessions: this.sessions,
      actions: this.actions.total,
      actionP50Ms: this.actions.percentile(50),
      actionP99Ms: this.actions.percentile(99),
      adaptations: this.adaptations.total,
      adaptationP50Ms: this.adaptations.percentile(50),
      adaptationP99Ms: this.adaptations.percentile(99),
    };
  }
}
