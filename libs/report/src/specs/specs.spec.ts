import { closeRenderer, renderSvg, sharedRenderer } from '../render';
import { adaptationSpec } from './adaptation';
import { exampleCurves, examplesSpec, MAX_EXAMPLES } from './examples';
import { lossCurveSpec } from './loss-curve';
import { throughputSpec } from './throughput';
import { validationSpec } from './validation';
import { waterfallSpec } from './waterfall';
import type { CandidateResult, EvalExample } from '../types';

afterAll(() => closeRenderer());

/** Texts drawn in an SVG (axis titles, labels, legend entries). */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
const data = (spec: Record<string, unknown>) => (spec['data'] as { values: Record<string, unknown>[] }).values;

const results: CandidateResult[] = [
  { name: 'maml', loss: [0, 1, 2].map((step) => ({ step, mean: 1 / (step + 1), ci95: 0.1 })), accuracy: [] },
  { name: 'pretrained', loss: [0, 1, 2].map((step) => ({ step, mean: 2 - step / 10, ci95: 0.2 })), accuracy: [{ step: 0, mean: 0.5, ci95: 0.05 }] },
];

describe('spec builders render with vega-lite, without warnings', () => {
  it('loss curve: log y for positive losses, linear otherwise, titled axes', async () => {
    const points = [1, 2, 3].map((iteration) => ({ iteration, series: 'meta-train: after adaptation (metaLoss)', loss: 1 / iteration }));
    const spec = lossCurveSpec(points);
    expect((spec['encoding'] as any).y.scale.type).toBe('log');
    expect((lossCurveSpec([...points, { iteration: 4, series: 'x', loss: 0 }])['encoding'] as any).y.scale.type).toBe('linear');
    const svg = await renderSvg(spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(texts(svg)).toEqual(expect.arrayContaining(['iteration (meta-updates)', 'query loss (log scale)', 'meta-train: after adaptation (metaLoss)']));
  });

  it('adaptation: mean ± ci95 rows per candidate with data, one legend entry per candidate', async () => {
    const loss = data(adaptationSpec(results, 'loss'));
    expect(loss).toHaveLength(6);
    expect(loss[0]).toMatchObject({ candidate: 'maml', step: 0, mean: 1, lo: 0.9, hi: 1.1 });
    const accuracy = adaptationSpec(results, 'accuracy');
    expect(data(accuracy).map((r) => r['candidate'])).toEqual(['pretrained']);
    const svg = await renderSvg(adaptationSpec(results, 'loss'));
    expect(texts(svg)).toEqual(expect.arrayContaining(['maml', 'pretrained', 'adaptation steps (gradient steps)', 'query loss (mean ± 95% CI)']));
  });

  it('validation and throughput render their axes', async () => {
    const v = validationSpec(
      [
        { iteration: 10, candidate: 'maml', step: 'step 0', loss: 2 },
        { iteration: 10, candidate: 'maml', step: 'step 5', loss: 1 },
      ],
      ['maml'],
    );
    expect(texts(await renderSvg(v))).toEqual(expect.arrayContaining(['maml, step 0', 'maml, step 5', 'validation loss (log scale)']));
    const t = throughputSpec([{ elapsed: 1, itPerSec: 40, phase: 'meta-train' }, { elapsed: 2, itPerSec: 42, phase: 'meta-train' }]);
    expect(texts(await renderSvg(t))).toEqual(expect.arrayContaining(['iterations / s', 'time since start (s)']));
  });

  it('examples: step 0, step 1 and the last step of the first candidate, pretrained dashed, at most 4 panels', async () => {
    const e: EvalExample = {
      taskId: 'a',
      support: { x: [0], y: [0] },
      grid: { x: [0, 1], y: [0, 1] },
      predictions: { 'maml/step0': [0, 0], 'maml/step1': [0, 1], 'maml/step5': [0, 1], 'maml/step3': [0, 1], 'pretrained/step5': [1, 1], 'pretrained/step0': [1, 1] },
    };
    expect(exampleCurves(e, 'maml')).toEqual({ candidate: 'maml', keys: ['maml/step0', 'maml/step1', 'maml/step5'], pretrainedKey: 'pretrained/step5' });
    expect(exampleCurves({ ...e, predictions: { 'reptile/step0': [0, 0] } }, 'maml')).toEqual({ candidate: 'reptile', keys: ['reptile/step0'] });
    const spec = examplesSpec(Array.from({ length: 6 }, (_, i) => ({ ...e, taskId: `t${i}` })), 'maml');
    expect(new Set(data(spec).map((r) => r['panel'])).size).toBe(MAX_EXAMPLES);
    const svg = await renderSvg(spec);
    expect(texts(svg)).toEqual(expect.arrayContaining(['true function', 'support points', 'maml, before adaptation (step 0)', 'maml, after 5 steps', 'pretrained, after 5 steps']));
  });

  it('waterfall: one row per span even when labels repeat, labelled "service: name"', async () => {
    const spans = [0, 1, 2].map((i) => ({ spanId: `s${i}`, name: 'step', service: 'learner', depth: i === 0 ? 0 : 1, startMs: i, endMs: i + 1 }));
    const spec = waterfallSpec(spans);
    expect(new Set(data(spec).map((r) => r['row'])).size).toBe(3);
    const svg = await renderSvg(spec);
    expect(texts(svg).filter((t) => t === 'learner: step')).toHaveLength(3);
    expect(texts(svg)).toContain('time since the meta-iteration started (ms)');
  });

  it('no vega or vega-lite warnings from any of the above', () => {
    expect(sharedRenderer().warnings).toEqual([]);
  });

  it('a broken spec fails with a message naming vega', async () => {
    await expect(renderSvg({ mark: 'no-such-mark', data: { values: [] } })).rejects.toThrow(/vega could not render/);
  });
});
