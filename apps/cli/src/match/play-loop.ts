import { invalidArgument } from '@chameleon/core';
import { StepType, VectorEnv, agentsPerMatch, sizeOfShape, type SequentialEnvironment } from '@chameleon/envs';
import type { Task } from '@chameleon/tasks';
import type { Player } from './players';

/** One round from the first player's point of view. */
export interface RoundResult {
  round: number;
  /** Per episode, from player 0's view: +1 win, 0 draw, -1 loss. */
  outcomes: number[];
  wins: number;
  draws: number;
  losses: number;
  /** Mean episode return of each player. */
  returns: [number, number];
  /** Adaptation time of each player after the round, ms. */
  adaptationMs: [number, number];
}

/**
 * Plays rounds of episodes between two players in a two-agent environment: both act through
 * the environment contract (world 0 and world 1 of one match), each adapts after every round.
 */
export async function playRounds(
  env: SequentialEnvironment,
  players: [Player, Player],
  tasks: [Task, Task],
  options: { rounds: number; episodesPerRound: number; seed: number; onRound?: (r: RoundResult) => void },
): Promise<RoundResult[]> {
  if (agentsPerMatch(env) !== 2) throw invalidArgument('--env', `"${env.name}" is not a two-player environment (it has ${agentsPerMatch(env)} agent(s) per match)`);
  await env.ready?.();
  const obsSize = sizeOfShape(env.spec.observationShape);
  const actSize = sizeOfShape(env.spec.actionShape);
  const venv = new VectorEnv(env, 2, tasks, options.seed);
  const results: RoundResult[] = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      const outcomes: number[][] = [[], []];
      const returns = [0, 0];
      for (let e = 0; e < options.episodesPerRound; e++) {
        let ts = venv.reset();
        for (;;) {
          const actions = new Float32Array(2 * actSize);
          for (let a = 0; a < 2; a++) {
            returns[a] += ts.rewards[a];
            const act = await players[a].observe(ts.observations.slice(a * obsSize, (a + 1) * obsSize), ts.stepTypes[a], ts.rewards[a], ts.discounts[a]);
            if (act) actions.set(act.subarray(0, actSize), a * actSize);
          }
          if (ts.stepTypes[0] === StepType.LAST) {
            for (let a = 0; a < 2; a++) outcomes[a].push(ts.outcomes ? ts.outcomes[a] : 0);
            break;
          }
          ts = venv.step(actions);
        }
      }
      const adaptationMs: [number, number] = [await players[0].endRound(round, outcomes[0]), await players[1].endRound(round, outcomes[1])];
      const o = outcomes[0];
      const r: RoundResult = {
        round,
        outcomes: o,
        wins: o.filter((x) => x > 0).length,
        draws: o.filter((x) => x === 0).length,
        losses: o.filter((x) => x < 0).length,
        returns: [returns[0] / options.episodesPerRound, returns[1] / options.episodesPerRound],
        adaptationMs,
      };
      results.push(r);
      options.onRound?.(r);
    }
  } finally {
    venv.close();
  }
  return results;
}
