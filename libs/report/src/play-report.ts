import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSvg } from './render';

/** What `chameleon play` writes to play.json. */
export interface PlayJson {
  agent: string;
  opponent: string;
  environment: string;
  rounds: Array<{ round: number; wins: number; draws: number; losses: number; returns: [number, number]; adaptationMs: [number, number] }>;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * play.html: win, draw and loss rates of the agent by round (each round's episodes), with a
 * moving average over 10 rounds, and the cumulative record.
 */
export async function buildPlayReport(dir: string, play: PlayJson): Promise<string> {
  const points = play.rounds.flatMap((r) => {
    const n = Math.max(1, r.wins + r.draws + r.losses);
    return [
      { round: r.round, rate: r.wins / n, outcome: 'win' },
      { round: r.round, rate: r.draws / n, outcome: 'draw' },
      { round: r.round, rate: r.losses / n, outcome: 'loss' },
    ];
  });
  const svg = await renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${play.agent} vs ${play.opponent}: outcome rate by round (10-round moving average)`,
    width: 640,
    height: 260,
    data: { values: points },
    transform: [{ window: [{ op: 'mean', field: 'rate', as: 'smoothed' }], frame: [-9, 0], groupby: ['outcome'], sort: [{ field: 'round' }] }],
    mark: { type: 'line', point: play.rounds.length < 30 },
    encoding: {
      x: { field: 'round', type: 'quantitative', title: 'round' },
      y: { field: 'smoothed', type: 'quantitative', title: 'rate (per episode)', scale: { domain: [0, 1] } },
      color: { field: 'outcome', type: 'nominal', scale: { domain: ['win', 'draw', 'loss'], range: ['#2a9d4b', '#999999', '#d62728'] } },
    },
  });
  const total = play.rounds.reduce((a, r) => ({ w: a.w + r.wins, d: a.d + r.draws, l: a.l + r.losses }), { w: 0, d: 0, l: 0 });
  const rows = play.rounds.map((r) => `<tr><td>${r.round}</td><td>${r.wins}</td><td>${r.draws}</td><td>${r.losses}</td><td>${r.returns.map((x) => x.toFixed(2)).join(' / ')}</td><td>${r.adaptationMs.map((x) => (Number.isFinite(x) ? x.toFixed(1) : '-')).join(' / ')}</td></tr>`);
  const html = `<!doctype html><meta charset="utf-8"><title>${esc(play.agent)} vs ${esc(play.opponent)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:960px}td,th{padding:2px 10px;text-align:right}table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}</style>
<h1>${esc(play.agent)} vs ${esc(play.opponent)}</h1>
<p>Environment <b>${esc(play.environment)}</b>; ${play.rounds.length} rounds. Record of ${esc(play.agent)}: <b>${total.w} wins, ${total.d} draws, ${total.l} losses</b>.</p>
${svg}
<h2>Rounds</h2><table><tr><th>round</th><th>wins</th><th>draws</th><th>losses</th><th>mean return (agent / opponent)</th><th>adaptation ms (agent / opponent)</th></tr>${rows.join('')}</table>`;
  const path = join(dir, 'play.html');
  writeFileSync(path, html);
  return path;
}
