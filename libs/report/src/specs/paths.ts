import type { VegaLiteSpec } from '../render';
import type { PolicyTaskPaths } from '../types';
import { curveKeys, stepLabel } from './examples';
import { viewExtent } from './path-frame';
import { frame } from './theme';

/** Tasks drawn at most: more panels would shrink each below readability. */
export const MAX_PATH_TASKS = 4;

/**
 * Task families whose observation starts with a position in the plane (obs[0], obs[1]) and
 * whose tasks are goals `{ goal: [x, y] }` in that plane, with what the position is. Only
 * for these is "observation dims 0 and 1 over an episode" a path one can read.
 * 2d-navigation: the point's position (libs/envs/src/navigation). ant-goal: the torso's x, y,
 * qpos[0..1], which the ant observes first (libs/envs/src/mujoco/ant).
 */
export const PLANAR_FAMILIES: Record<string, string> = {
  '2d-navigation': 'position of the point',
  'ant-goal': "torso's x, y",
};

/**
 * A 5-pointed star as an SVG path (vega has no built-in star). Vega scales custom symbols
 * from the unit square; the radius of 2 draws the goal twice the start dot's size at one
 * mark size (a size channel would need a sorted scale and its own legend).
 */
export const STAR = (() => {
  const pts = Array.from({ length: 10 }, (_, i) => {
    const r = i % 2 === 0 ? 2 : 0.84;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    return `${(r * Math.cos(a)).toFixed(3)},${(r * Math.sin(a)).toFixed(3)}`;
  });
  return `M${pts.join('L')}Z`;
})();

/** MuJoCo locomotion families (halfcheetah-vel, ant-dir, ...): their note says why, not just that. */
const LOCOMOTION = /cheetah|ant|walker|hopper|humanoid|swimmer/;

/** The goal `[x, y]` of a task, if its parameters have one. */
export function goalOf(task: PolicyTaskPaths): [number, number] | undefined {
  const g = task.params?.['goal'];
  return Array.isArray(g) && g.length === 2 && g.every((v) => typeof v === 'number' && Number.isFinite(v)) ? [g[0], g[1]] : undefined;
}

/** Why paths cannot be drawn as a 2D plot for this run, or undefined when they can. */
export function pathsUnplottable(family: string | undefined, tasks: readonly PolicyTaskPaths[]): string | undefined {
  if (tasks.length === 0) return 'eval.json has no paths (evaluation.paths was 0).';
  const drawn = Object.keys(PLANAR_FAMILIES).join(', ');
  if (family && LOCOMOTION.test(family) && !(family in PLANAR_FAMILIES)) {
    return `Paths are not drawn for ${family}: its observations are high-dimensional states (joint angles and velocities), not a position in the plane, so a 2D plot of them would not mean anything (paths are drawn for ${drawn}).`;
  }
  if (!family || !(family in PLANAR_FAMILIES)) {
    return `Paths are not drawn for ${family ?? 'a run without task.family'}: they are drawn only for task families whose observation starts with a position in the plane (${drawn}).`;
  }
  if (!tasks.some(goalOf)) return `Paths are not drawn: the ${family} tasks in eval.json have no "goal": [x, y] parameter.`;
  return undefined;
}

const MARKERS = ['goal', 'start'];

interface PathRow {
  panel: string;
  series: string;
  track: string;
  t: number;
  x: number;
  y: number;
}

/**
 * One episode's positions, consecutive repeats dropped: the evaluator pads an episode that
 * ended early (goal reached) by repeating its last observation, and repeats draw nothing.
 */
function positions(episode: readonly (readonly number[])[]): [number, number][] {
  const out: [number, number][] = [];
  for (const o of episode) {
    const [x, y] = [o?.[0], o?.[1]];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const last = out[out.length - 1];
    if (!last || last[0] !== x || last[1] !== y) out.push([x, y]);
  }
  return out;
}

function panelTitle(task: PolicyTaskPaths, index: number): string {
  const goal = goalOf(task);
  return `${index + 1}. task ${task.taskId.slice(0, 8)}${goal ? ` (goal ${goal[0].toFixed(2)}, ${goal[1].toFixed(2)})` : ''}`;
}

/**
 * Paths of the first candidate on up to four tasks, one panel each: the goal (star), the
 * start, the candidate before adaptation (step 0, dotted), after one step and after its last
 * step (light to dark), and "pretrained" after its last step (orange, dashed). Both axes
 * share one origin-centred domain in every panel (square panels, equal scales, see
 * viewExtent), so a path's shape and its distance to the goal read true. `usermeta` holds the
 * frame (PathFrame) for the caption.
 */
export function pathsSpec(tasks: readonly PolicyTaskPaths[], candidate?: string): VegaLiteSpec {
  const shown = tasks.slice(0, MAX_PATH_TASKS);
  const rows: PathRow[] = [];
  const marks: { panel: string; marker: string; x: number; y: number }[] = [];
  const order: string[] = [];
  const dashed = new Set<string>();
  shown.forEach((task, i) => {
    const panel = panelTitle(task, i);
    const curves = curveKeys(Object.keys(task.paths ?? {}), candidate);
    const keys = [...curves.keys, ...(curves.pretrainedKey ? [curves.pretrainedKey] : [])];
    if (curves.pretrainedKey) dashed.add(stepLabel(curves.pretrainedKey));
    let start: [number, number] | undefined;
    for (const key of keys) {
      const series = stepLabel(key);
      if (!order.includes(series)) order.push(series);
      (task.paths[key] ?? []).forEach((episode, e) => {
        const pts = positions(episode);
        start ??= pts[0];
        pts.forEach(([x, y], t) => rows.push({ panel, series, track: `${series}#${e}`, t, x, y }));
      });
    }
    const goal = goalOf(task);
    if (goal) marks.push({ panel, marker: 'goal', x: goal[0], y: goal[1] });
    if (start) marks.push({ panel, marker: 'start', x: start[0], y: start[1] });
  });

  const frameOf = viewExtent(rows, marks);
  const scale = { domain: [-frameOf.extent, frameOf.extent], nice: false };
  const axis = { tickCount: 5 };
  const x = { field: 'x', type: 'quantitative', title: 'x = obs[0]', scale, axis };
  const y = { field: 'y', type: 'quantitative', title: 'y = obs[1]', scale, axis };
  // The adapting candidate from light to dark, pretrained orange and dashed, step 0 dotted.
  const blues = ['#9ecae1', '#4292c6', '#08306b', '#08306b'];
  let blue = 0;
  const range = order.map((s) => (dashed.has(s) ? '#ff7f0e' : blues[blue++]));
  const dash = order.map((s) => (dashed.has(s) ? [6, 4] : s.includes('(step 0)') ? [2, 2] : [1, 0]));
  const legend = { orient: 'bottom', columns: 2, symbolType: 'stroke', symbolStrokeWidth: 2.5, title: null };
  return frame(`Paths on ${shown.length} evaluation task(s)`, {
    // Not drawn: read by the section for its caption (vega-lite ignores usermeta).
    usermeta: frameOf,
    facet: { field: 'panel', type: 'nominal', title: null, sort: null },
    data: { values: [...rows, ...marks] },
    columns: 2,
    bounds: 'flush',
    spacing: { column: 48, row: 40 },
    spec: {
      width: 280,
      height: 280,
      layer: [
        {
          transform: [{ filter: 'isValid(datum.series)' }],
          mark: { type: 'line', strokeWidth: 1.2, clip: true, opacity: 0.85 },
          encoding: {
            x,
            y,
            detail: { field: 'track', type: 'nominal' },
            order: { field: 't', type: 'quantitative' },
            color: { field: 'series', type: 'nominal', scale: { domain: order, range }, legend },
            strokeDash: { field: 'series', type: 'nominal', scale: { domain: order, range: dash }, legend },
          },
        },
        {
          transform: [{ filter: 'isValid(datum.marker)' }],
          mark: { type: 'point', filled: true, opacity: 1, size: 70, stroke: 'white', strokeWidth: 0.8, clip: true },
          encoding: {
            x,
            y,
            // fill, not color: a second colour scale would merge with the paths' one. Shape and
            // fill share the field, so they make one legend that looks like the marks.
            shape: { field: 'marker', type: 'nominal', scale: { domain: MARKERS, range: [STAR, 'circle'] }, legend: { orient: 'bottom', title: null } },
            fill: { field: 'marker', type: 'nominal', scale: { domain: MARKERS, range: ['#d62728', '#222'] }, legend: { orient: 'bottom', title: null } },
          },
        },
      ],
    },
  });
}
