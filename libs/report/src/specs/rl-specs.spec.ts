import { closeRenderer, renderSvg, sharedRenderer } from '../render';
import type { PolicyCandidateResult, PolicyTaskPaths } from '../types';
import { MIN_EXTENT, PathFrame, viewExtent } from './path-frame';
import { MAX_PATH_TASKS, pathsSpec, pathsUnplottable, STAR } from './paths';
import { isReference, returnAdaptationSpec } from './return-adaptation';
import { RETURN_SERIES, returnCurveSpec } from './return-curve';

afterAll(() => closeRenderer());

const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
type Layer = { data?: { values: Record<string, unknown>[] }; mark: { type: string }; encoding: Record<string, any> };
const layers = (spec: Record<string, unknown>) => spec['layer'] as Layer[];

const steps = (means: number[]) => means.map((mean, step) => ({ step, mean, ci95: 2, std: 5 }));
const results: PolicyCandidateResult[] = [
  { name: 'maml-trpo', episodeReturn: steps([-70, -20, -15, -12]) },
  { name: 'pretrained', episodeReturn: steps([-36, -31, -27, -22]) },
  { name: 'oracle', episodeReturn: [{ step: 0, mean: -7.08, ci95: 0.81, std: 1.8 }] },
];

describe('RL training return curve', () => {
  it('keeps negative returns on a linear y axis, series in a fixed order and colour', async () => {
    const points = [1, 2, 3].flatMap((iteration) => [
      { iteration, series: RETURN_SERIES.pre.name, value: -110 + iteration },
      { iteration, series: RETURN_SERIES.post.name, value: -100 + 10 * iteration },
      { iteration, series: RETURN_SERIES.oracle.name, value: -10 / iteration },
    ]);
    const spec = returnCurveSpec(points);
    const enc = spec['encoding'] as any;
    expect(enc.y.scale).toEqual({ zero: false });
    expect(enc.color.scale.domain).toEqual([RETURN_SERIES.post.name, RETURN_SERIES.pre.name, RETURN_SERIES.oracle.name]);
    expect(enc.strokeDash.scale.range).toEqual([[1, 0], [5, 3], [1, 0]]);
    // Few points: each one is marked, so a 2-iteration run still shows its dots.
    expect((spec['mark'] as any).point).toBeDefined();
    const svg = await renderSvg(spec);
    expect(texts(svg)).toEqual(expect.arrayContaining(['mean episode return (higher is better)', RETURN_SERIES.oracle.name, '−100']));
  });
});

describe('return vs adaptation steps', () => {
  it('draws the oracle as a dashed horizontal rule across every step, labelled, with its CI as a band', async () => {
    const spec = returnAdaptationSpec(results);
    const rule = layers(spec).find((l) => l.mark.type === 'rule' && l.encoding['x2']);
    expect(rule?.data?.values).toEqual([{ candidate: 'oracle (sees the task)', mean: -7.08, lo: -7.08 - 0.81, hi: -7.08 + 0.81, x0: -0.4, x1: 3.4 }]);
    expect(rule?.encoding['y'].field).toBe('mean');
    const dash = rule?.encoding['strokeDash'].scale;
    expect(dash.range[dash.domain.indexOf('oracle (sees the task)')]).toEqual([6, 4]);
    expect(layers(spec).some((l) => l.mark.type === 'rect' && l.data?.values[0]['candidate'] === 'oracle (sees the task)')).toBe(true);
    const line = layers(spec).find((l) => l.mark.type === 'line');
    expect([...new Set(line?.data?.values.map((v) => v['candidate']))]).toEqual(['maml-trpo', 'pretrained']);
    const svg = await renderSvg(spec);
    expect(texts(svg).filter((t) => t === 'oracle (sees the task)')).toHaveLength(2); // legend and label
    expect(texts(svg)).toEqual(expect.arrayContaining(['adaptation steps (policy-gradient steps)', 'episode return (mean ± 95% CI over tasks)', 'maml-trpo']));
  });

  it('a candidate is a reference when it is the oracle or was evaluated at step 0 only', () => {
    expect(results.map((r) => isReference(r, 3))).toEqual([false, false, true]);
    expect(isReference({ name: 'frozen', episodeReturn: steps([-5]) }, 3)).toBe(true);
    expect(isReference({ name: 'frozen', episodeReturn: steps([-5]) }, 0)).toBe(false);
    const noOracle = returnAdaptationSpec(results.slice(0, 2));
    expect(layers(noOracle).map((l) => l.mark.type)).toEqual(['rule', 'line', 'point']);
  });
});

/** A task whose candidate walks straight from the origin by `step` per time step, along +x. */
function task(id: string, goal: [number, number] | undefined, step = 0.01, dims = 2): PolicyTaskPaths {
  const episode = Array.from({ length: 20 }, (_, t) => [step * Math.min(t, 10), 0, ...Array(dims - 2).fill(0)]);
  const paths = Object.fromEntries(['maml-trpo/step0', 'maml-trpo/step1', 'maml-trpo/step3', 'pretrained/step3', 'oracle/step0'].map((k) => [k, [episode, episode]]));
  return { taskId: id, params: goal ? { goal } : { velocity: 1 }, paths };
}

describe('navigation paths', () => {
  it('small multiples of at most four tasks: step 0, 1, last of the first candidate, pretrained dashed, goal star', async () => {
    const spec = pathsSpec(Array.from({ length: 6 }, (_, i) => task(`t${i}`, [0.3, -0.2])), 'maml-trpo');
    const values = (spec['data'] as { values: Record<string, unknown>[] }).values;
    expect(new Set(values.map((v) => v['panel'])).size).toBe(MAX_PATH_TASKS);
    expect([...new Set(values.map((v) => v['series']).filter(Boolean))]).toEqual([
      'maml-trpo, before adaptation (step 0)',
      'maml-trpo, after 1 step',
      'maml-trpo, after 3 steps',
      'pretrained, after 3 steps',
    ]);
    // Padding repeats of an episode that ended are dropped: 11 distinct positions of 20.
    expect(values.filter((v) => v['panel'] === '1. task t0 (goal 0.30, -0.20)' && v['track'] === 'maml-trpo, after 1 step#0')).toHaveLength(11);
    expect(values.filter((v) => v['marker'] === 'goal')).toHaveLength(MAX_PATH_TASKS);
    const inner = (spec['spec'] as { layer: Layer[] }).layer;
    expect(inner[0].encoding['x'].scale).toEqual(inner[0].encoding['y'].scale);
    expect(inner[1].encoding['shape'].scale.range[0]).toBe(STAR);
    const svg = await renderSvg(spec);
    expect(texts(svg)).toEqual(expect.arrayContaining(['1. task t0 (goal 0.30, -0.20)', 'goal', 'start', 'pretrained, after 3 steps', 'x = obs[0]']));
  });

  it('the frame is at least ±0.6, holds every goal, and clips only a far-wandering minority of points', () => {
    const near = viewExtent([{ x: 0.1, y: 0.2 }], [{ x: 0.45, y: -0.3 }]);
    expect(near).toEqual({ extent: MIN_EXTENT, outside: 0, points: 1 });
    expect(viewExtent([], [{ x: 2.9, y: 0 }]).extent).toBeCloseTo(3.2, 9);
    const rows = [...Array.from({ length: 95 }, (_, i) => ({ x: i / 100, y: 0 })), ...Array.from({ length: 5 }, () => ({ x: 5, y: 5 }))];
    const f: PathFrame = viewExtent(rows, [{ x: 0.5, y: 0.5 }]);
    expect(f.extent).toBeLessThan(1.2);
    expect(f.outside).toBe(5);
    // 4 curves × 2 episodes × positions 0..10: the 90% quantile is 9, so the frame is ±9.9 and
    // the 8 points at 10 fall outside; the spec carries the frame for the caption.
    expect(pathsSpec([task('far', [0.2, 0.2], 1)])['usermeta']).toEqual({ extent: 9.9, outside: 8, points: 88 });
  });

  it('is drawn for planar goal families only, with the reason otherwise', () => {
    expect(pathsUnplottable('2d-navigation', [task('a', [0.1, 0.1])])).toBeUndefined();
    expect(pathsUnplottable('ant-goal', [task('a', [2, 1], 0.2, 113)])).toBeUndefined();
    expect(pathsUnplottable('halfcheetah-vel', [task('a', undefined, 0.1, 17)])).toMatch(/^Paths are not drawn for halfcheetah-vel: its observations are high-dimensional states/);
    expect(pathsUnplottable('ant-dir', [task('a', undefined, 0.1, 113)])).toMatch(/^Paths are not drawn for ant-dir: its observations are high-dimensional/);
    expect(pathsUnplottable('grid-world', [task('a', [1, 1])])).toMatch(/^Paths are not drawn for grid-world: they are drawn only for task families whose observation starts with a position in the plane \(2d-navigation, ant-goal\)\.$/);
    expect(pathsUnplottable('2d-navigation', [task('a', undefined)])).toMatch(/no "goal": \[x, y\] parameter/);
    expect(pathsUnplottable('2d-navigation', [])).toMatch(/no paths/);
  });

  it('no vega or vega-lite warnings from any of the above', () => {
    expect(sharedRenderer().warnings).toEqual([]);
  });
});
