import { escapeHtml, note, section } from '../html';
import type { RunData } from '../load-run';
import { formatNumber } from '../format';
import type { PathFrame } from '../specs/path-frame';
import { MAX_PATH_TASKS, pathsSpec, pathsUnplottable, PLANAR_FAMILIES } from '../specs/paths';
import { ORACLE, returnAdaptationSpec } from '../specs/return-adaptation';
import type { PolicyTaskPaths } from '../types';
import { configValue } from './config-value';
import type { PlotFn } from './plot';

/** The path panels and a caption that says what is drawn and what the frame leaves out. */
async function pathsFigure(tasks: readonly PolicyTaskPaths[], candidate: string | undefined, position: string, plot: PlotFn): Promise<string> {
  const spec = pathsSpec(tasks, candidate);
  const f = spec['usermeta'] as PathFrame;
  const episodes = Math.max(0, ...tasks.slice(0, MAX_PATH_TASKS).flatMap((t) => Object.values(t.paths ?? {}).map((p) => p.length)));
  const clipped = f.outside
    ? ` The frame, ±${formatNumber(f.extent)}, holds the goals and ${formatNumber((100 * (f.points - f.outside)) / f.points)} % of the path points; the rest run off its edge.`
    : '';
  const caption = `${Math.min(tasks.length, MAX_PATH_TASKS)} of ${tasks.length} task(s) with paths, ${episodes} episode(s) per curve. Star: the goal; dot: the start. A path is obs[0], obs[1] (the ${escapeHtml(position)}) over one episode.${clipped}`;
  return plot('paths', spec, caption);
}

/** "Adaptation" (return vs steps) and "Paths" sections of an RL run, from eval.json. */
export async function rlEvaluationSections(data: RunData, plot: PlotFn): Promise<string> {
  const e = data.policyEvaluation;
  if (!e) {
    const why = data.missing.some((f) => f.file === 'eval.json') ? 'eval.json is missing' : 'eval.json could not be read';
    return section('adaptation', 'Adaptation', note(`No evaluation: ${why}.`, 'missing'));
  }
  const curve = e.results.some((r) => r.episodeReturn.length > 0)
    ? await plot(
        'adaptation-return',
        returnAdaptationSpec(e.results),
        `Each candidate starts from its trained policy and takes policy-gradient steps on every held-out task, with fresh episodes after each step.${
          e.results.some((r) => r.name === ORACLE) ? ' The dashed line is the oracle, which is told the task and does not adapt; the band is its 95% CI.' : ''
        }`,
      )
    : note('eval.json has no episode returns.', 'missing');
  const adaptation = section('adaptation', 'Adaptation', curve);

  const family = configValue(data.config, 'task.family');
  const tasks = e.paths ?? [];
  const why = pathsUnplottable(family, tasks);
  const body = why ? note(escapeHtml(why), 'info') : await pathsFigure(tasks, e.results.find((r) => r.name !== ORACLE)?.name, PLANAR_FAMILIES[family as string], plot);
  return adaptation + section('paths', 'Paths on example tasks', body);
}
