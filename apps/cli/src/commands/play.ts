import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { conservative, initial, rate, type Rating } from '@chameleon/agents';
import { agentContext } from '@chameleon/app-agent-server';
import { createRegistry } from '@chameleon/builtins';
import { invalidArgument } from '@chameleon/core';
import { isSequential, type SequentialEnvironment } from '@chameleon/envs';
import { buildPlayReport } from '@chameleon/report';
import { sampleTasks, type TaskFamily } from '@chameleon/tasks';
import type { TlsFiles } from '@chameleon/transport';
import { list } from '../env';
import { log } from '../log';
import { playRounds, type RoundResult } from '../match/play-loop';
import { makePlayer, type Player } from '../match/players';
import { backend, positiveInt } from './shared';

type Flags = Record<string, string | undefined>;

function environment(flags: Flags) {
  const registry = createRegistry(list(flags.plugins));
  const name = flags.env ?? 'robosumo';
  const envConfig = flags.envConfig ? JSON.parse(flags.envConfig) : {};
  const env = registry.create<unknown>('environment', name, envConfig, '--env-config');
  if (!isSequential(env)) throw invalidArgument('--env', `"${name}" is not a sequential environment`);
  const family = registry.create<TaskFamily>('task-family', env.family, {}, '--env');
  return { registry, env: env as SequentialEnvironment, family };
}

function options(flags: Flags) {
  const tls: TlsFiles = { ca: flags.tlsCa, cert: flags.tlsCert, key: flags.tlsKey };
  return {
    rounds: positiveInt(flags.rounds, '--rounds') ?? 100,
    episodesPerRound: positiveInt(flags.episodesPerRound, '--episodes-per-round') ?? 3,
    seed: positiveInt(flags.seed, '--seed', 0) ?? 1,
    token: flags.token,
    tls,
  };
}

/** Plays one pairing; returns the rounds from `a`'s view. */
async function pairing(aSpec: string, bSpec: string, flags: Flags, onRound?: (r: RoundResult) => void) {
  const { registry, env, family } = environment(flags);
  const o = options(flags);
  const ctx = agentContext(registry);
  const [task] = sampleTasks(family, { split: 'test', seed: o.seed, start: 0, count: 1 });
  const players: [Player, Player] = [await makePlayer(aSpec, '--agent', registry, ctx, o), await makePlayer(bSpec, '--opponent', registry, ctx, o)];
  try {
    return { env, rounds: await playRounds(env, players, [task, task], { ...o, onRound }) };
  } finally {
    players.forEach((p) => p.close());
  }
}

/** `chameleon play`: two agents (either may be remote), rounds of episodes, adaptation between rounds. */
export async function play(flags: Flags): Promise<void> {
  if (!flags.agent || !flags.opponent) throw invalidArgument(flags.agent ? '--opponent' : '--agent', 'is required');
  await backend(flags.backend);
  const out = resolve(flags.out ?? join('runs', `play-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`));
  mkdirSync(out, { recursive: true });
  let total = { w: 0, d: 0, l: 0 };
  const { env, rounds } = await pairing(flags.agent, flags.opponent, flags, (r) => {
    total = { w: total.w + r.wins, d: total.d + r.draws, l: total.l + r.losses };
    log(`round ${r.round}: ${r.wins}-${r.draws}-${r.losses} (total ${total.w}-${total.d}-${total.l}); adaptation ${r.adaptationMs.map((x) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '-')).join(' / ')}`);
  });
  const json = { agent: flags.agent, opponent: flags.opponent, environment: env.name, rounds };
  writeFileSync(join(out, 'play.json'), `${JSON.stringify(json, null, 1)}\n`);
  log(`report: ${await buildPlayReport(out, json)}`);
}

/** `chameleon tournament`: round robin over a population, TrueSkill from every episode. */
export async function tournament(flags: Flags): Promise<void> {
  if (!flags.agents) throw invalidArgument('--agents', 'is required (a YAML list of {name, spec})');
  const population = parseYaml(readFileSync(flags.agents, 'utf8')) as Array<{ name: string; spec: string }>;
  if (!Array.isArray(population) || population.length < 2 || !population.every((p) => p?.name && p?.spec)) {
    throw invalidArgument('--agents', 'must be a YAML list of at least two {name, spec} entries');
  }
  await backend(flags.backend);
  const out = resolve(flags.out ?? join('runs', `tournament-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`));
  mkdirSync(out, { recursive: true });
  const ratings = new Map<string, Rating>(population.map((p) => [p.name, initial()]));
  const games: Array<{ a: string; b: string; wins: number; draws: number; losses: number }> = [];
  for (let i = 0; i < population.length; i++) {
    for (let j = i + 1; j < population.length; j++) {
      const a = population[i];
      const b = population[j];
      const { rounds } = await pairing(a.spec, b.spec, flags);
      const g = { a: a.name, b: b.name, wins: 0, draws: 0, losses: 0 };
      for (const r of rounds) {
        for (const o of r.outcomes) {
          const [ra, rb] = rate(ratings.get(a.name)!, ratings.get(b.name)!, Math.sign(o));
          ratings.set(a.name, ra);
          ratings.set(b.name, rb);
        }
        g.wins += r.wins;
        g.draws += r.draws;
        g.losses += r.losses;
      }
      games.push(g);
      log(`${a.name} vs ${b.name}: ${g.wins}-${g.draws}-${g.losses}`);
    }
  }
  const table = [...ratings].map(([name, r]) => ({ name, mu: r.mu, sigma: r.sigma, rating: conservative(r) })).sort((x, y) => y.rating - x.rating);
  writeFileSync(join(out, 'tournament.json'), `${JSON.stringify({ environment: flags.env ?? 'robosumo', games, ratings: table }, null, 1)}\n`);
  const md = ['| rank | agent | TrueSkill mu - 3 sigma | mu | sigma |', '|---|---|---|---|---|', ...table.map((r, k) => `| ${k + 1} | ${r.name} | ${r.rating.toFixed(2)} | ${r.mu.toFixed(2)} | ${r.sigma.toFixed(2)} |`)].join('\n');
  writeFileSync(join(out, 'tournament.md'), `${md}\n`);
  process.stdout.write(`${md}\n`);
  log(`ratings: ${join(out, 'tournament.md')}`);
}
