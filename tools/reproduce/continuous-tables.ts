/**
 * Prints the markdown tables of docs/results/continuous-adaptation.md from the JSON files
 * `npm run reproduce:continuous` wrote: `node -r @swc-node/register tools/reproduce/continuous-tables.ts [DIR]`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(process.argv[2] ?? join(__dirname, '../../docs/results/continuous-adaptation'));
const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

type Ci = { mean: number; lo: number; hi: number };
if (existsSync(join(dir, 'locomotion.json'))) {
  const r = JSON.parse(readFileSync(join(dir, 'locomotion.json'), 'utf8')) as {
    summary: Record<string, { byPosition: Ci[]; afterFirst: Ci; adaptMsP50: number }>;
    metaLog: unknown[];
    ppoLog: unknown[];
    wallSeconds: Record<string, number>;
    loadAverageAtStart: number;
    loadAverageAtEnd: number;
    finalMeanAlpha: number;
  };
  const L = Object.values(r.summary)[0].byPosition.length;
  console.log(`| agent | ${Array.from({ length: L }, (_, i) => `T${i + 1}`).join(' | ')} | mean T2..T${L} (95% CI) | adaptation p50 (ms) |`);
  console.log(`|---|${'---:|'.repeat(L + 2)}`);
  for (const [name, s] of Object.entries(r.summary)) console.log(`| ${name} | ${s.byPosition.map((c) => f(c.mean)).join(' | ')} | ${f(s.afterFirst.mean, 2)} [${f(s.afterFirst.lo, 2)}, ${f(s.afterFirst.hi, 2)}] | ${f(s.adaptMsP50, 0)} |`);
  console.log(`\nmeta iterations ${r.metaLog.length}, PPO iterations ${r.ppoLog.length}, final mean alpha (step 1) ${f(r.finalMeanAlpha, 4)}; wall s: ${Object.entries(r.wallSeconds).map(([k, v]) => `${k} ${f(v, 0)}`).join(', ')}; load ${f(r.loadAverageAtStart)} -> ${f(r.loadAverageAtEnd)}\n`);
}
if (existsSync(join(dir, 'sumo.json'))) {
  const r = JSON.parse(readFileSync(join(dir, 'sumo.json'), 'utf8')) as { results: Record<string, { win: number[]; draw: number[]; loss: number[] }>; wallSeconds: Record<string, number>; ppoLog: Array<Record<string, number>>; metaLog: Array<Record<string, number>>; loadAverageAtStart: number; loadAverageAtEnd: number };
  const R = Object.values(r.results)[0].win.length;
  console.log(`| agent (vs PPO-tracking opponent) | ${Array.from({ length: R }, (_, i) => `round ${i + 1}`).join(' | ')} | win / draw / loss overall |`);
  console.log(`|---|${'---:|'.repeat(R + 1)}`);
  const m = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [name, s] of Object.entries(r.results)) console.log(`| ${name} | ${s.win.map((w) => f(w, 2)).join(' | ')} | ${f(m(s.win), 2)} / ${f(m(s.draw), 2)} / ${f(m(s.loss), 2)} |`);
  const last = (xs: Array<Record<string, number>>, k: string) => m(xs.slice(-5).map((x) => x[k]));
  console.log(`\nPPO iterations ${r.ppoLog.length} (last 5: win ${f(last(r.ppoLog, 'winRate'), 2)} vs scripted), meta iterations ${r.metaLog.length} (last 5: T_i win ${f(last(r.metaLog, 'preWin'), 2)}, T_i+1 win ${f(last(r.metaLog, 'postWin'), 2)}); wall s: ${Object.entries(r.wallSeconds).map(([k, v]) => `${k} ${f(v, 0)}`).join(', ')}; load ${f(r.loadAverageAtStart)} -> ${f(r.loadAverageAtEnd)}`);
}
