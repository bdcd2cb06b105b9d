import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { escapeHtml, figure, note, page } from './html';
import { loadRun } from './load-run';
import { SvgRenderer, VegaLiteSpec } from './render';
import { evaluationSections } from './sections/evaluation';
import { filesSection } from './sections/files';
import { headerHtml, runTitle } from './sections/header';
import type { PlotFn } from './sections/plot';
import { rlEvaluationSections } from './sections/rl-evaluation';
import { rlTrainingSections } from './sections/rl-training';
import { traceSection } from './sections/trace';
import { trainingSections } from './sections/training';

export interface BuildReportOptions {
  /** Page title; default: config.json's name, else the folder name. */
  title?: string;
  /** Where to write the page; default `<runDir>/report.html`. */
  outFile?: string;
}

export const REPORT_FILE = 'report.html';

/**
 * Turns a run folder into one self-contained HTML page (inline SVG plots, inline CSS, no
 * script, no network) and returns its path. Supervised and RL runs (`kind: "rl"` in
 * config.json or eval.json) get the same layout with their own numbers. Optional files that are missing or damaged are
 * named on the page; only a missing folder or config.json throws.
 *
 * @example
 *   const path = await buildReport('runs/maml-sinusoid');
 */
export async function buildReport(runDir: string, options: BuildReportOptions = {}): Promise<string> {
  const outFile = options.outFile ?? join(runDir, REPORT_FILE);
  const data = await loadRun(runDir, [relative(runDir, outFile).split('\\').join('/')]);
  const renderer = new SvgRenderer();
  const plot: PlotFn = async (name: string, spec: VegaLiteSpec, caption?: string) => {
    try {
      return figure(name, await renderer.render(spec), caption);
    } catch (e) {
      return figure(name, `<p class="plot-error">Plot "${escapeHtml(name)}" failed: ${escapeHtml((e as Error).message)}</p>`);
    }
  };
  try {
    // RL runs plot returns (higher is better, any sign) where supervised runs plot losses.
    const rl = data.kind === 'rl';
    const [training, evaluation, trace] = await Promise.all([
      (rl ? rlTrainingSections : trainingSections)(data, plot),
      (rl ? rlEvaluationSections : evaluationSections)(data, plot),
      traceSection(data, plot),
    ]);
    const missing = data.missing.length
      ? note(`Not in this folder: ${data.missing.map((m) => `<code>${escapeHtml(m.file)}</code>`).join(', ')} (see <a href="#files">Files</a>).`, 'missing')
      : '';
    const title = runTitle(data, options.title);
    const html = page(title, [headerHtml(data, options.title), missing, training, evaluation, trace, filesSection(data)].join('\n'));
    await writeFile(outFile, html, 'utf8');
    return outFile;
  } finally {
    await renderer.close();
  }
}
