import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTelemetry } from './init';
import { metrics } from './metrics';
import { readSpans } from './span-record';
import { withSpan } from './spans';

describe('initTelemetry with an unreachable OTLP collector', () => {
  it('shutdown resolves quickly, says why on one stderr line, and the trace file is still written', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'telemetry-otlp-')), 'trace.jsonl');
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const telemetry = initTelemetry({
        serviceName: 'otlp-test',
        otlpEndpoint: 'http://127.0.0.1:1',
        traceFile: file,
        instrumentGrpc: false,
        exportTimeoutMs: 300,
        metricsIntervalMs: 60_000,
      });
      expect(telemetry.otlpEndpoint).toBe('http://127.0.0.1:1');
      const lines = (prefix: string) => stderr.mock.calls.map(([text]) => String(text)).filter((t) => t.startsWith(prefix));

      const started = Date.now();
      await withSpan('flushed', {}, () => undefined);
      await expect(telemetry.forceFlush()).resolves.toBeUndefined();
      expect(lines('telemetry: flush')).toHaveLength(1);

      await withSpan('pending-at-shutdown', {}, () => undefined);
      metrics().recordIteration({ metaLoss: 1, iterationsPerSecond: 2, phaseSeconds: { adapt: 0.1 } });
      await expect(telemetry.shutdown()).resolves.toBeUndefined();
      await expect(telemetry.shutdown()).resolves.toBeUndefined();
      expect(Date.now() - started).toBeLessThan(5_000);

      const shutdownLines = lines('telemetry: shutdown');
      expect(shutdownLines).toHaveLength(1);
      expect(shutdownLines[0]).toMatch(/^telemetry: shutdown could not export to http:\/\/127\.0\.0\.1:1: .*UNAVAILABLE.*\n$/);
      expect(shutdownLines[0].trimEnd()).not.toContain('\n');
      expect(readSpans(file).map((s) => s.name)).toEqual(['flushed', 'pending-at-shutdown']);
    } finally {
      stderr.mockRestore();
    }
  }, 15_000);
});
