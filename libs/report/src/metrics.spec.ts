import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_PLOT_POINTS, summariseMetrics } from './metrics';

describe('summariseMetrics', () => {
  it('reads 10^5 progress lines and plots at most MAX_PLOT_POINTS bin means per phase', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-metrics-'));
    const n = 100_000;
    const lines: string[] = [];
    for (let i = 1; i <= n; i++) {
      lines.push(JSON.stringify({ type: 'progress', phase: 'meta-train', iteration: i, total: n, metaLoss: i, preAdaptationLoss: 2 * i, itPerSec: 50, phaseSeconds: { sample_tasks: 0.001, meta_gradient: 0.003 }, traceId: `t${i}`, elapsed: i / 50 }));
    }
    lines.push('{"type":"validation","iteration":100000,"results":[{"name":"maml","loss":[{"step":0,"mean":1,"ci95":0.1,"std":1}]}]}');
    lines.push('{"type":"checkpoint","path":"c.ckpt","iteration":100000,"phase":"meta-train"}');
    const path = join(dir, 'metrics.jsonl');
    writeFileSync(path, lines.join('\n'));

    const m = await summariseMetrics(path);

    const rows = m.progress['meta-train'];
    expect(m.progressCounts['meta-train']).toBe(n);
    expect(rows).toHaveLength(MAX_PLOT_POINTS);
    // metaLoss = iteration, so each bin's mean is the mean of its 200 consecutive iterations.
    expect(rows[0].metaLoss).toBeCloseTo(100.5, 9);
    expect(rows[499].metaLoss).toBeCloseTo((99_801 + 100_000) / 2, 9);
    expect(rows[3].preAdaptationLoss).toBeCloseTo(2 * rows[3].iteration, 9);
    expect(m.phaseSeconds.sample_tasks).toBeCloseTo(0.001, 12);
    expect(m.phaseSeconds.meta_gradient).toBeCloseTo(0.003, 12);
    expect(m.validation).toHaveLength(1);
    expect(m.checkpoints[0].path).toBe('c.ckpt');
  });
});
