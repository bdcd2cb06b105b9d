import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from './build-report';
import { writeRunFixture } from './testing/run-fixture';
import { RL_FIXTURE_PATH_TASKS, RlFixtureOptions, writeRlRunFixture } from './testing/rl-run-fixture';

const root = mkdtempSync(join(tmpdir(), 'report-rl-'));
let n = 0;
async function build(options: RlFixtureOptions = {}): Promise<string> {
  const dir = join(root, `run-${n++}`);
  writeRlRunFixture(dir, options);
  return readFileSync(await buildReport(dir), 'utf8');
}

const missingFrom = (html: string, wanted: readonly string[]) => wanted.filter((w) => !html.includes(w));
const presentIn = (html: string, unwanted: readonly string[]) => unwanted.filter((w) => html.includes(w));
const svgCount = (html: string) => (html.match(/<svg[\s>]/g) ?? []).length;
const plots = (html: string) => [...html.matchAll(/<figure class="plot" data-plot="([^"]+)"><svg/g)].map((m) => m[1]);
const resultsTable = (html: string) => html.slice(html.indexOf('<table class="results">'), html.indexOf('</table>', html.indexOf('<table class="results">')));
const section = (html: string, id: string) => html.slice(html.indexOf(`<section id="${id}">`), html.indexOf('</section>', html.indexOf(`<section id="${id}">`)));

describe('buildReport on an RL run (2D navigation)', () => {
  let html: string;
  beforeAll(async () => {
    html = await build();
  });

  it('draws returns, speed, return vs steps, paths and the trace, and no loss plot', () => {
    expect(plots(html)).toEqual(['training-return', 'throughput', 'adaptation-return', 'paths', 'waterfall']);
    expect(svgCount(html)).toBe(5);
    expect(presentIn(html, ['class="plot-error"', 'data-plot="training-loss"', 'query loss', 'log scale', '<section id="validation">'])).toEqual([]);
  });

  it('results table: return mean ± ci95 at steps 0, 1 and 3; best adapting candidate bold; the oracle a reference', () => {
    expect(
      missingFrom(resultsTable(html), [
        '<th>candidate</th><th>return, step 0</th><th>return, step 1</th><th>return, step 3</th>',
        '<td>maml-trpo</td><td>-70.6 ± 7.4</td><td>-21.4 ± 3.1</td><td><b>-12.3 ± 2.0</b></td>',
        '<td>pretrained</td><td>-36.6 ± 6.6</td><td>-31.6 ± 5.9</td><td>-22.5 ± 4.9</td>',
        '<td>random-init</td><td>-117 ± 10</td><td>-118 ± 8</td><td>-107 ± 7</td>',
        '<td>oracle (sees the task)</td><td>-7.08 ± 0.81</td><td>—</td><td>—</td>',
      ]),
    ).toEqual([]);
    expect(resultsTable(html).match(/<b>/g)).toHaveLength(1);
    expect(missingFrom(html, ['20 evaluation tasks · 10 episodes per task · horizon 40 · 3 adaptation steps · inner learning rate 0.1 · evaluated in 18 s · backend wasm'])).toEqual([]);
  });

  it('results table: a paired gain column (last step vs step 0) when eval.json has the changes; none for the oracle', async () => {
    expect(resultsTable(html)).not.toContain('paired');
    const t = resultsTable(await build({ paired: true }));
    expect(
      missingFrom(t, [
        '<th>gain, step 0 → 3 (paired)</th>',
        '<td><b>-12.3 ± 2.0</b></td><td>+58.3 ± 0.5</td>',
        '<td>-22.5 ± 4.9</td><td>+14.1 ± 1.2</td>',
        '<td>-107 ± 7</td><td>+10.4 ± 1.9</td>',
        '<td>oracle (sees the task)</td><td>-7.08 ± 0.81</td><td>—</td><td>—</td><td>—</td>',
      ]),
    ).toEqual([]);
  });

  it('header: the RL facts', () => {
    const facts = ['meta-RL training run report', '<dd>maml-trpo</dd>', '<dd>2d-navigation</dd>', '<dd>gaussian-mlp (64×64, tanh)</dd>', '<dd>1 step(s), lr 0.1, γ 0.99, λ 1</dd>', '<dd>20 tasks × 10 episodes, horizon 40</dd>', '<dd>pretrained 30, oracle 30 TRPO iterations</dd>'];
    expect(missingFrom(html, facts)).toEqual([]);
  });

  it('training: the four return curves, the per-phase time table of the RL loop, the corrupt line', () => {
    const t = section(html, 'training');
    expect(missingFrom(t, ['>meta-train: after adaptation</text>', '>meta-train: before adaptation</text>', '>baseline ("pretrained", multi-task TRPO)</text>', '>oracle (TRPO, sees the task)</text>'])).toEqual([]);
    expect(missingFrom(t, ['<td>rollouts_pre</td>', '<td>adapt</td>', '<td>rollouts_post</td>', '<td>meta_gradient</td>', 'meta-train: 50 points from 50 progress lines'])).toEqual([]);
    expect(/metrics\.jsonl: skipped 1 line\(s\) that are not JSON objects \(line 51\)/.test(html)).toBe(true);
  });

  it('adaptation: the oracle is labelled on the plot; paths: 4 of 5 tasks with goals', () => {
    expect(section(html, 'adaptation').match(/>oracle \(sees the task\)<\/text>/g)).toHaveLength(2);
    const p = section(html, 'paths');
    expect(missingFrom(p, [`4 of ${RL_FIXTURE_PATH_TASKS} task(s) with paths, 3 episode(s) per curve`, '>goal</text>', '>maml-trpo, before adaptation (step 0)</text>', '>pretrained, after 3 steps</text>'])).toEqual([]);
    expect(p.match(/>\d\. task [0-9a-f]{8} \(goal /g)).toHaveLength(4);
  });

  it('the trace waterfall shows a meta-train iteration (rollouts, adaptation, policy meta-step), not the later baseline one', () => {
    expect(missingFrom(section(html, 'trace'), [
      '<code class="trace-id">rl-trace-1</code>, meta-train iteration 1: 8 spans',
      'Chosen as the meta-train meta_iteration trace with the most services (ties: the latest) among 3.','meta-optimiser: rollouts_pre', 'learner: grpc.chameleon.v1.LearnerService/AdaptPolicy', 'learner: grpc.chameleon.v1.LearnerService/PolicyMetaStep'])).toEqual([]);
  });
});

describe('buildReport on other RL runs', () => {
  it('a MuJoCo family: no path plot, one line saying why', async () => {
    const html = await build({ family: 'halfcheetah-vel' });
    expect(plots(html)).toEqual(['training-return', 'throughput', 'adaptation-return', 'waterfall']);
    expect(missingFrom(section(html, 'paths'), ['Paths are not drawn for halfcheetah-vel: its observations are high-dimensional states'])).toEqual([]);
  });

  it('eval.json alone (kind "rl") makes it an RL page; without eval.json the page says so', async () => {
    const html = await build({ configKind: false, files: { metrics: false, traces: false } });
    expect(plots(html)).toEqual(['adaptation-return', 'paths']);
    expect(missingFrom(html, ['meta-RL training run report', '<td>oracle (sees the task)</td>', 'No training curves: metrics.jsonl is missing.'])).toEqual([]);
    const noEval = await build({ files: { eval: false } });
    expect(plots(noEval)).toEqual(['training-return', 'throughput', 'waterfall']);
    expect(missingFrom(noEval, ['No evaluation: eval.json is missing.', 'meta-RL training run report'])).toEqual([]);
  });

  it('an RL eval.json without episode returns is a problem on the page, not a crash', async () => {
    const dir = join(root, 'broken-rl-eval');
    writeRlRunFixture(dir, { files: { traces: false } });
    writeFileSync(join(dir, 'eval.json'), JSON.stringify({ kind: 'rl', results: [{ name: 'maml-trpo', loss: [] }] }));
    const html = readFileSync(await buildReport(dir), 'utf8');
    expect(missingFrom(html, ['eval.json: could not be read (results[0] has no &quot;episodeReturn&quot; array', 'No evaluation: eval.json could not be read.'])).toEqual([]);
    expect(plots(html)).toEqual(['training-return', 'throughput']);
  });

  it('the supervised page has none of the RL sections', async () => {
    const dir = join(root, 'supervised');
    writeRunFixture(dir, { progressLines: 100, baselineLines: 20, validationEvery: 50, files: { traces: false } });
    const html = readFileSync(await buildReport(dir), 'utf8');
    expect(plots(html)).toEqual(['training-loss', 'throughput', 'validation', 'adaptation-loss', 'examples']);
    expect(presentIn(html, ['meta-RL', 'return, step', 'data-plot="paths"', '<dt>Policy</dt>'])).toEqual([]);
  });
});
