import type { VegaLiteSpec } from '../render';
import type { EvalExample } from '../types';
import { frame } from './theme';

/** Small multiples drawn at most; more would shrink each panel below readability. */
export const MAX_EXAMPLES = 4;
const PRETRAINED = 'pretrained';

/** Which prediction curves an example panel shows, in legend order. */
export interface ExampleCurves {
  candidate?: string;
  /** Prediction keys ("<candidate>/step<k>") drawn solid, then the dashed pretrained one. */
  keys: string[];
  pretrainedKey?: string;
}

/** Steps available for a candidate among keys "<candidate>/step<k>", ascending. */
function stepsOf(keys: readonly string[], candidate: string): number[] {
  const steps: number[] = [];
  for (const key of keys) {
    const m = /^(.*)\/step(\d+)$/.exec(key);
    if (m && m[1] === candidate) steps.push(Number(m[2]));
  }
  return steps.sort((a, b) => a - b);
}

/**
 * Chooses among keys "<candidate>/step<k>": the first candidate (default: the first key's)
 * before adaptation (step 0), after one step and after its last step, plus "pretrained" at
 * its last step when present. Shared by the supervised examples and the RL paths.
 */
export function curveKeys(keys: readonly string[], candidate?: string): ExampleCurves {
  const first = candidate && keys.some((k) => k.startsWith(`${candidate}/`)) ? candidate : keys[0]?.replace(/\/step\d+$/, '');
  const out: ExampleCurves = { candidate: first, keys: [] };
  if (first) {
    const steps = stepsOf(keys, first);
    const wanted = [0, 1, steps[steps.length - 1]].filter((s) => steps.includes(s));
    out.keys = [...new Set(wanted)].map((s) => `${first}/step${s}`);
  }
  if (first !== PRETRAINED) {
    const pre = stepsOf(keys, PRETRAINED);
    if (pre.length > 0) out.pretrainedKey = `${PRETRAINED}/step${pre[pre.length - 1]}`;
  }
  return out;
}

/** The curves of one example task's predictions (see curveKeys). */
export function exampleCurves(example: EvalExample, candidate?: string): ExampleCurves {
  return curveKeys(Object.keys(example.predictions ?? {}), candidate);
}

/** Legend text of a key: "maml, before adaptation (step 0)", "maml, after 5 steps". */
export function stepLabel(key: string): string {
  const m = /^(.*)\/step(\d+)$/.exec(key);
  if (!m) return key;
  return Number(m[2]) === 0 ? `${m[1]}, before adaptation (step 0)` : `${m[1]}, after ${m[2]} step${m[2] === '1' ? '' : 's'}`;
}

function panelTitle(e: EvalExample, index: number): string {
  const params = Object.entries(e.params ?? {})
    .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(2) : String(v)}`)
    .join(', ');
  return `${index + 1}. task ${e.taskId}${params ? ` (${params})` : ''}`;
}

/**
 * Example tasks as small multiples: true function (line), support points (dots), the first
 * candidate's predictions before and after adaptation, and pretrained's (dashed).
 */
export function examplesSpec(examples: readonly EvalExample[], candidate?: string): VegaLiteSpec {
  const shown = examples.slice(0, MAX_EXAMPLES);
  const truth = 'true function';
  const support = 'support points';
  const lines: { panel: string; series: string; x: number; y: number }[] = [];
  const points: { panel: string; series: string; x: number; y: number }[] = [];
  const seriesOrder: string[] = [truth];
  const dashed = new Set<string>();
  const add = (series: string) => {
    if (!seriesOrder.includes(series)) seriesOrder.push(series);
  };
  shown.forEach((e, i) => {
    const panel = panelTitle(e, i);
    const gx = e.grid?.x ?? [];
    const push = (series: string, ys: readonly number[] | undefined) => {
      if (!ys) return;
      for (let j = 0; j < gx.length && j < ys.length; j++) {
        if (Number.isFinite(gx[j]) && Number.isFinite(ys[j])) lines.push({ panel, series, x: gx[j], y: ys[j] });
      }
    };
    push(truth, e.grid?.y);
    const curves = exampleCurves(e, candidate);
    for (const key of curves.keys) {
      add(stepLabel(key));
      push(stepLabel(key), e.predictions[key]);
    }
    if (curves.pretrainedKey) {
      dashed.add(stepLabel(curves.pretrainedKey));
      add(stepLabel(curves.pretrainedKey));
      push(stepLabel(curves.pretrainedKey), e.predictions[curves.pretrainedKey]);
    }
    const sx = e.support?.x ?? [];
    const sy = e.support?.y ?? [];
    for (let j = 0; j < sx.length && j < sy.length; j++) points.push({ panel, series: support, x: sx[j], y: sy[j] });
  });

  // Truth thick and grey underneath, the adapting candidate from light to dark, pretrained orange.
  const blues = ['#9ecae1', '#4292c6', '#08306b', '#08306b'];
  let blue = 0;
  const range = seriesOrder.map((s) => (s === truth ? '#9a9a9a' : dashed.has(s) ? '#ff7f0e' : blues[blue++]));
  const dash = seriesOrder.map((s) => (dashed.has(s) ? [6, 4] : s.includes('(step 0)') ? [2, 2] : [1, 0]));
  const legend = { orient: 'bottom', columns: 3, symbolType: 'stroke', symbolStrokeWidth: 2.5, title: null };
  const x = { field: 'x', type: 'quantitative', title: 'input x' };
  // Padding keeps support points on the extremes inside the panel, so panel headers align.
  const y = { field: 'y', type: 'quantitative', title: 'output y', scale: { zero: false, padding: 8 } };
  const shots = shown[0]?.support?.x?.length ?? 0;
  return frame(`Example tasks (K = ${shots} support points)`, {
    data: { values: [...lines, ...points] },
    facet: { field: 'panel', type: 'nominal', title: null, sort: null },
    columns: 2,
    // Flush bounds: panels align by their plot area, not by their tick labels.
    bounds: 'flush',
    spacing: { column: 56, row: 44 },
    spec: {
      width: 340,
      height: 200,
      layer: [
        {
          transform: [{ filter: `datum.series !== '${support}'` }],
          mark: { type: 'line', clip: true },
          encoding: {
            x,
            y,
            color: { field: 'series', type: 'nominal', scale: { domain: seriesOrder, range }, legend },
            strokeDash: { field: 'series', type: 'nominal', scale: { domain: seriesOrder, range: dash }, legend },
            strokeWidth: { condition: { test: `datum.series === '${truth}'`, value: 4 }, value: 1.8 },
          },
        },
        {
          transform: [{ filter: `datum.series === '${support}'` }],
          mark: { type: 'point', filled: true, size: 55, stroke: 'white', strokeWidth: 0.8, opacity: 1, color: '#d62728' },
          encoding: {
            x,
            y,
            shape: { field: 'series', type: 'nominal', scale: { domain: [support], range: ['circle'] }, legend: { orient: 'bottom', title: null } },
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  });
}
