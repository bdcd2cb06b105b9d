import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from './build-report';
import { BEST_TRACE_ID, FIXTURE_LOSS, FixtureOptions, TIED_TRACE_IDS, writeRunFixture } from './testing/run-fixture';

const root = mkdtempSync(join(tmpdir(), 'report-build-'));
let n = 0;
async function build(options: FixtureOptions = {}): Promise<{ dir: string; html: string }> {
  const dir = join(root, `run-${n++}`);
  writeRunFixture(dir, options);
  const path = await buildReport(dir);
  expect(path).toBe(join(dir, 'report.html'));
  return { dir, html: readFileSync(path, 'utf8') };
}

/** The strings the page lacks (an empty list on success keeps failures short: no page dump). */
const missingFrom = (html: string, wanted: readonly string[]) => wanted.filter((w) => !html.includes(w));
const presentIn = (html: string, unwanted: readonly string[]) => unwanted.filter((w) => html.includes(w));
const svgCount = (html: string) => (html.match(/<svg[\s>]/g) ?? []).length;
/** Names of the figures that hold a rendered SVG, in page order. */
const plots = (html: string) => [...html.matchAll(/<figure class="plot" data-plot="([^"]+)"><svg/g)].map((m) => m[1]);

describe('buildReport on a complete run folder', () => {
  let html: string;
  beforeAll(async () => {
    ({ html } = await build({ withAccuracy: true }));
  });

  it('draws every plot as one inline SVG', () => {
    expect(plots(html)).toEqual(['training-loss', 'throughput', 'validation', 'adaptation-loss', 'adaptation-accuracy', 'examples', 'waterfall']);
    expect(svgCount(html)).toBe(7);
    expect(presentIn(html, ['class="plot-error"'])).toEqual([]);
  });

  it('is self-contained: no script, no external resource, unique SVG ids', () => {
    expect(/<script|<link |(src|href)="(https?:)?\/\//i.exec(html)?.[0]).toBeUndefined();
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows the header facts and the results table in "mean ± ci95" at steps 0, 1 and 10', () => {
    const facts = ['<h1>maml-sinusoid-fixture</h1>', '<dd>maml</dd>', '<dd>sinusoid</dd>', '<dd>2000</dd>', '<dd>wasm</dd>', '12 min 05 s', 'SUCCEEDED', '2 × Test CPU'];
    expect(missingFrom(html, facts)).toEqual([]);
    const table = html.slice(html.indexOf('<table class="results">'), html.indexOf('</table>', html.indexOf('<table class="results">')));
    expect(
      missingFrom(table, [
        '<th>loss, step 0</th><th>loss, step 1</th><th>loss, step 10</th><th>accuracy, step 0</th>',
        ...Object.keys(FIXTURE_LOSS).map((name) => `<td>${name}</td>`),
        // maml at steps 0, 1 and 10 (the best last-step loss, in bold), then pretrained's row.
        '<td>maml</td><td>3.21 ± 0.15</td><td>0.512 ± 0.031</td><td><b>0.123 ± 0.010</b></td>',
        '<td>pretrained</td><td>2.99 ± 0.14</td><td>2.10 ± 0.12</td><td>1.50 ± 0.09</td>',
        '<td>random-init</td><td>4.10 ± 0.21</td><td>3.80 ± 0.20</td><td>3.01 ± 0.17</td>',
      ]),
    ).toEqual([]);
    expect(missingFrom(html, ['600 evaluation tasks · K = 5 shots · query size 50 · 10 adaptation steps · learning rate 0.01'])).toEqual([]);
  });

  it('shows the trace with the most services and says why', () => {
    expect(missingFrom(html, [`<code class="trace-id">${BEST_TRACE_ID}</code>`, '9 spans across 4 service(s)', '>environment-simulator: handle/environment-simulator</text>'])).toEqual([]);
    expect(presentIn(html, [...TIED_TRACE_IDS, 'trace-health-check'])).toEqual([]);
  });

  it('reports the corrupt lines it skipped, with their line numbers', () => {
    expect(/metrics\.jsonl: skipped 1 line\(s\) that are not JSON objects \(line \d+\)/.test(html)).toBe(true);
    expect(missingFrom(html, ['traces.jsonl: skipped 1 line(s) that are not JSON objects (line 4)'])).toEqual([]);
  });

  it('lists the folder and embeds the config', () => {
    const files = ['config.json', 'run.json', 'metrics.jsonl', 'eval.json', 'traces.jsonl', 'checkpoints/iter-2000.ckpt'].map((f) => `<code>${f}</code>`);
    expect(missingFrom(html, [...files, '<details><summary>Configuration (config.json)</summary>', '&quot;family&quot;: &quot;sinusoid&quot;'])).toEqual([]);
    expect(presentIn(html, ['Not in this folder', '<code>report.html</code>'])).toEqual([]);
  });
});

describe('buildReport with files missing', () => {
  it('without traces.jsonl: no waterfall, and the page says so', async () => {
    const { html } = await build({ files: { traces: false } });
    expect(plots(html)).toEqual(['training-loss', 'throughput', 'validation', 'adaptation-loss', 'examples']);
    expect(svgCount(html)).toBe(5);
    expect(missingFrom(html, ['No waterfall: traces.jsonl is missing.', 'Missing <code>traces.jsonl</code>', 'Not in this folder: <code>traces.jsonl</code>'])).toEqual([]);
  });

  it('with only config.json: no plots, every missing file named, still a page', async () => {
    const { html } = await build({ files: { run: false, metrics: false, eval: false, traces: false } });
    expect(svgCount(html)).toBe(0);
    const notes = ['run.json', 'metrics.jsonl', 'eval.json', 'traces.jsonl'].map((f) => `Missing <code>${f}</code>`);
    expect(missingFrom(html, [...notes, 'No training curves: metrics.jsonl is missing.', 'No evaluation: eval.json is missing.', '<h1>maml-sinusoid-fixture</h1>'])).toEqual([]);
  });

  it('an unreadable eval.json is a problem on the page, not a crash', async () => {
    const dir = join(root, 'broken-eval');
    writeRunFixture(dir, { files: { traces: false, metrics: false } });
    writeFileSync(join(dir, 'eval.json'), '{"results": ');
    const html = readFileSync(await buildReport(dir, { title: 'Custom title', outFile: join(root, 'custom.html') }), 'utf8');
    expect(missingFrom(html, ['<h1>Custom title</h1>', 'eval.json: could not be read', 'No evaluation: eval.json could not be read.'])).toEqual([]);
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });

  it('throws a clear error for a folder that does not exist or has no config.json', async () => {
    await expect(buildReport(join(root, 'no-such-run'))).rejects.toThrow(/no-such-run does not exist/);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expect(buildReport(empty)).rejects.toThrow(/not a run folder: it has no config\.json/);
  });
});
