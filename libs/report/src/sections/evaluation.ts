import { note, section } from '../html';
import type { RunData } from '../load-run';
import { adaptationSpec } from '../specs/adaptation';
import { examplesSpec, MAX_EXAMPLES } from '../specs/examples';
import type { PlotFn } from './plot';

/** "Adaptation" (metric vs steps) and "Example tasks" sections, from eval.json. */
export async function evaluationSections(data: RunData, plot: PlotFn): Promise<string> {
  const e = data.evaluation;
  if (!e) {
    const why = data.missing.some((f) => f.file === 'eval.json') ? 'eval.json is missing' : 'eval.json could not be read';
    return section('adaptation', 'Adaptation', note(`No evaluation: ${why}.`, 'missing'));
  }
  const plots = [await plot('adaptation-loss', adaptationSpec(e.results, 'loss'))];
  if (e.results.some((r) => (r.accuracy ?? []).length > 0)) plots.push(await plot('adaptation-accuracy', adaptationSpec(e.results, 'accuracy')));
  const adaptation = section('adaptation', 'Adaptation', `<div class="row">${plots.join('')}</div>`);

  const examples = e.examples ?? [];
  const first = e.results[0]?.name;
  const body = examples.length
    ? await plot(
        'examples',
        examplesSpec(examples, first),
        `${Math.min(examples.length, MAX_EXAMPLES)} of ${examples.length} example task(s). Predictions are on the grid; the support points are the only data the model adapts on.`,
      )
    : note('eval.json has no example tasks.', 'info');
  return adaptation + section('examples', 'Example tasks', body);
}
