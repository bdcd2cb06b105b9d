/**
 * MuJoCo environment steps per second (each step = frameSkip physics steps), random actions,
 * through VectorEnv exactly as a simulator service steps them: single-agent environments for 1
 * and 20 worlds, sumo for 1 and 16 matches (2 and 32 worlds).
 *
 *   SWC_NODE_PROJECT=./tsconfig.json node -r @swc-node/register tools/bench/mujoco.ts [--seconds 2] [--repeats 3] [--worlds 1,20] [--matches 1,16] [--only nonstationary-ant,sumo]
 *
 * Numbers count every world's step: 20 worlds at 1,000 calls/s report 20,000 steps/s; for
 * sumo, one match step moves both agents and is counted once (agent steps = 2 x match steps).
 * The process is single-threaded, so this is one core's throughput. Cells are measured
 * round-robin `repeats` times and reported as median (min-max), so load from other processes
 * spreads over all cells instead of biasing one. Results: libs/envs/src/mujoco/README.md.
 */
import { loadavg } from 'node:os';
import { Rng } from '@chameleon/core';
import { sampleTasks, type TaskFamily } from '@chameleon/tasks';
import { VectorEnv, agentsPerMatch, type SequentialEnvironment } from '@chameleon/envs';
import {
  AntGoalFamily,
  HalfCheetahVelFamily,
  NonstationaryLegsFamily,
  SumoEnvironment,
  SumoFamily,
  nonstationaryEnv,
  antDirEnv,
  antDirFamily,
  antGoalEnv,
  ensureMujoco,
  halfCheetahDirEnv,
  halfCheetahDirFamily,
  halfCheetahVelEnv,
} from '@chameleon/envs/src/mujoco';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const seconds = Number(arg('seconds', '2'));
const repeats = Number(arg('repeats', '3'));
const worldCounts = arg('worlds', '1,20').split(',').map(Number);
const matchCounts = arg('matches', '1,16').split(',').map(Number);
const only = arg('only', '').split(',').filter(Boolean);

const cases: Array<[SequentialEnvironment, TaskFamily]> = (
  [
    [halfCheetahVelEnv(), new HalfCheetahVelFamily()],
    [halfCheetahDirEnv(), halfCheetahDirFamily()],
    [antDirEnv(), antDirFamily()],
    [antGoalEnv(), new AntGoalFamily()],
    [nonstationaryEnv('ant'), new NonstationaryLegsFamily('ant')],
    [nonstationaryEnv('bug'), new NonstationaryLegsFamily('bug')],
    [new SumoEnvironment(), new SumoFamily()],
  ] as Array<[SequentialEnvironment, TaskFamily]>
).filter(([env]) => only.length === 0 || only.includes(env.name));
/** Units per cell: worlds, or matches for multi-agent environments. */
const unitsOf = (env: SequentialEnvironment) => (agentsPerMatch(env) > 1 ? matchCounts : worldCounts);

/** Env steps per second of `units` worlds (or matches) over about `seconds`; episodes reset as they end. */
function measure(env: SequentialEnvironment, family: TaskFamily, units: number, secs: number): number {
  const n = units * agentsPerMatch(env);
  const tasks = sampleTasks(family, { split: 'train', seed: 1, start: 0, count: n });
  const v = new VectorEnv(env, n, tasks, 1);
  const size = n * env.spec.actionShape[0];
  const rng = Rng.fromKeys('bench-mujoco');
  // Pre-drawn actions: measure the simulator, not the random number generator.
  const pool = Array.from({ length: 64 }, () => Float32Array.from({ length: size }, () => rng.uniform(-1, 1)));
  v.reset();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < secs * 1000) {
    for (let k = 0; k < 20; k++) v.step(pool[(calls + k) % pool.length]);
    calls += 20;
    now = performance.now();
  }
  v.close();
  return (calls * units) / ((now - start) / 1000);
}

async function main() {
  const mj = await ensureMujoco();
  // V8 compiles the 11 MB wasm lazily and tiers hot functions up in the background: the first
  // seconds run several times slower, so warm every model before timing.
  for (const [env, family] of cases) measure(env, family, 4, 1.5);
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  const rates = cases.map(([env]) => unitsOf(env).map(() => [] as number[]));
  for (let r = 0; r < repeats; r++) {
    cases.forEach(([env, family], c) => unitsOf(env).forEach((n, w) => rates[c][w].push(measure(env, family, n, seconds))));
  }
  const k = (x: number) => `${(x / 1000).toFixed(1)}K`;
  const cell = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${k(s[Math.floor(s.length / 2)])} (${k(s[0])}-${k(s[s.length - 1])})`;
  };
  console.log(`MuJoCo ${mj.mj_versionString()} (mujoco-js wasm), Node ${process.version}, load average before ${load}, ${repeats} x ${seconds} s per cell`);
  const unit = (env: SequentialEnvironment, n: number) => (agentsPerMatch(env) > 1 ? `${n} match${n > 1 ? 'es' : ''}` : `${n} world${n > 1 ? 's' : ''}`);
  console.log(`| environment | ${worldCounts.map((_, i) => `cell ${i + 1}: env steps/s, median (min-max)`).join(' | ')} |`);
  console.log(`|---|${worldCounts.map(() => '---:').join('|')}|`);
  cases.forEach(([env], c) => console.log(`| ${env.name} | ${rates[c].map((x, i) => `${unit(env, unitsOf(env)[i])}: ${cell(x)}`).join(' | ')} |`));
  console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
