/**
 * Prints the markdown tables of docs/results/continuous-adaptation.md from the JSON files
 * `npm run reproduce:continuous` wrote: `node -r @swc-node/register tools/reproduce/continuous-tables.ts [DIR]`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? join(__dirname, '../../docs/results/continuous-adaptation'));
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
    protocol: { warmStartPpoIterations?: number };
    envSteps?: { totalMetaLearner: { episodes: number; envSteps: number }; totalPpo: { episodes: number; envSteps: number } };
  };
  const L = Object.values(r.summary)[0].byPosition.length;
  console.log(`| agent | ${Array.from({ length: L }, (_, i) => `T${i + 1}`).join(' | ')} | mean T2..T${L} (95% CI) | adaptation p50 (ms) |`);
  console.log(`|---|${'---:|'.repeat(L + 2)}`);
  for (const [name, s] of Object.entries(r.summary)) console.log(`| ${name} | ${s.byPosition.map((c) => f(c.mean)).join(' | ')} | ${f(s.afterFirst.mean, 2)} [${f(s.afterFirst.lo, 2)}, ${f(s.afterFirst.hi, 2)}] | ${f(s.adaptMsP50, 0)} |`);
  const warm = r.protocol.warmStartPpoIterations ? `warm start: ${r.protocol.warmStartPpoIterations} PPO iterations, then ` : '';
  const steps = r.envSteps ? `; env steps: meta-learner ${r.envSteps.totalMetaLearner.envSteps} (${r.envSteps.totalMetaLearner.episodes} episodes), PPO ${r.envSteps.totalPpo.envSteps} (${r.envSteps.totalPpo.episodes} episodes)` : '';
  console.log(`\n${warm}meta iterations ${r.metaLog.length}, PPO iterations ${r.ppoLog.length}${steps}, final mean alpha (step 1) ${f(r.finalMeanAlpha, 4)}; wall s: ${Object.entries(r.wallSeconds).map(([k, v]) => `${k} ${f(v, 0)}`).join(', ')}; load ${f(r.loadAverageAtStart)} -> ${f(r.loadAverageAtEnd)}\n`);
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

// `--plots`: redraw the SVGs from the JSON (same charts as the run writes).
if (process.argv.includes('--plots')) {
  const { lineChart, trainingChart } = require('./continuous-svg') as typeof import('./continuous-svg');
  const { writeFileSync } = require('node:fs') as typeof import('node:fs');
  if (existsSync(join(dir, 'sumo.json'))) {
    const r = JSON.parse(readFileSync(join(dir, 'sumo.json'), 'utf8')) as { protocol: { games: number; matchesPerRound: number; rounds: number }; results: Record<string, { win: number[] }> };
    const p = r.protocol;
    writeFileSync(join(dir, 'sumo-win-rate.svg'), lineChart(Object.entries(r.results).map(([name, s]) => ({ name, y: s.win })), Array.from({ length: p.rounds }, (_, i) => String(i + 1)), `RoboSumo vs a PPO-tracking opponent: win rate by round (${p.games} games x ${p.matchesPerRound} matches)`, 'win rate', [0, 1]));
  }
  if (existsSync(join(dir, 'locomotion.json'))) {
    const r = JSON.parse(readFileSync(join(dir, 'locomotion.json'), 'utf8')) as { protocol: { sequences: number; horizon: number }; summary: Record<string, { byPosition: Ci[] }>; metaLog: Array<Record<string, number>>; ppoLog: Array<Record<string, number>> };
    const L = Object.values(r.summary)[0].byPosition.length;
    // RL^2 (--part rl2) was evaluated on the same sequences; drawn only if at the same horizon.
    const rl2File = join(dir, 'locomotion-rl2.json');
    const rl2Run = existsSync(rl2File) ? (JSON.parse(readFileSync(rl2File, 'utf8')) as { protocol: { horizon: number }; summary: { byPosition: Ci[] } }) : undefined;
    const rl2: Record<string, { byPosition: Ci[] }> = rl2Run && rl2Run.protocol.horizon === r.protocol.horizon ? { 'RL^2': rl2Run.summary } : {};
    writeFileSync(
      join(dir, 'locomotion-returns.svg'),
      lineChart(
        Object.entries({ ...r.summary, ...rl2 }).map(([name, s]) => ({ name, y: s.byPosition.map((c) => c.mean), lo: s.byPosition.map((c) => c.lo), hi: s.byPosition.map((c) => c.hi) })),
        Array.from({ length: L }, (_, i) => `T${i + 1}`),
        `nonstationary-ant: return along held-out sequences (${r.protocol.sequences} sequences, 95% CI)`,
        'episode return',
      ),
    );
    const w = (r as { warmStartLog?: Array<Record<string, number>> }).warmStartLog ?? [];
    writeFileSync(join(dir, 'locomotion-training.svg'), trainingChart(r.metaLog, r.ppoLog, w));
  }
}
