import { z } from 'zod';
import { failedPrecondition, invalidArgument, Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { SplitName, Task, TaskFamily } from '@chameleon/tasks';
import type { EnvSpec, Match, MatchStep, SequentialEnvironment, World } from '../../rl/environment';
import { locomotionSpec, rangeField } from '../locomotion';
import { ANATOMY_NAMES, LEGGED_ANATOMIES, type Anatomy } from '../models/legged';
import { ensureMujoco } from '../runtime';
import { MjSim } from '../sim';
import { SUMO_MODEL_X, sumoAgentLayout, sumoXml } from './arena';
import { judgeSumo, shapingTerms, sumoObservationLayout, upAxisZ, type TorsoState } from './rules';

/**
 * A RoboSumo-like competition (Al-Shedivat et al. 2018, section 5.2): two legged agents in a
 * ring, each pushing the other out or over. Two agents per match; see README.md.
 */

// ---- task family -----------------------------------------------------------------------

export const sumoFamilyConfig = z
  .object({
    /** Rounds per iterated adaptation game (tasks per sequence). Default 100 (the paper). */
    rounds: z.number().int().min(1).max(100_000).default(100),
    /** Range of the start-line orientation, radians, uniform. Default [0, 2 pi]. */
    angle: rangeField(0, 2 * Math.PI),
  })
  .strict();
export type SumoFamilyConfig = z.infer<typeof sumoFamilyConfig>;

/**
 * Rounds of iterated games: task `index` is round i = index mod R of game k = floor(index / R).
 * Params `{ sequence: k, position: i, length: R, angle }`: `angle` orients the line through
 * the two start positions (agent 0 starts at that angle, agent 1 opposite).
 */
export class SumoFamily implements TaskFamily {
  readonly name = 'robosumo';
  readonly version = '1.0.0';
  readonly description = 'RoboSumo rounds of iterated adaptation games; params orient the start line';
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];
  readonly sequenceLength: number;

  constructor(readonly config: SumoFamilyConfig = sumoFamilyConfig.parse({})) {
    this.sequenceLength = config.rounds;
  }

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const R = this.sequenceLength;
    const rng = Rng.fromKeys(this.name, split, seed, index);
    return { sequence: Math.floor(index / R), position: index % R, length: R, angle: rng.uniform(...this.config.angle) };
  }
}

export function sumoAngleParam(task: Task, field = 'task'): number {
  const a = task.params.angle;
  if (typeof a !== 'number' || !Number.isFinite(a)) throw invalidArgument(`${field}.params.angle`, `must be a finite number (radians), got ${JSON.stringify(a)}`);
  return a;
}

// ---- environment -----------------------------------------------------------------------

export const sumoEnvConfig = z
  .object({
    /** Anatomy of both agents (one spec per environment). Default 'ant'. */
    agent: z.enum(ANATOMY_NAMES as [Anatomy, ...Anatomy[]]).default('ant'),
    /** Steps per match; reaching it is a draw (time limit, discount 1). Default 500 (the paper). */
    horizon: z.number().int().min(1).max(100_000).default(500),
    /** Physics steps per environment step. Default 5 (0.05 s). */
    frameSkip: z.number().int().min(1).max(100).default(5),
    /** Physics integration step, seconds. Default 0.01. */
    timestep: z.number().positive().max(0.1).default(0.01),
    /** Ring radius, metres: a torso centre farther than this (in xy) is out. Default 2 (RoboSumo's tatami). */
    ringRadius: z.number().positive().max(20).default(2),
    /** Each torso's distance from the centre at reset, metres. Default 1 (2 m apart; legs reach 0.81 m). */
    startDistance: z.number().min(0).max(20).default(1),
    /** Std of the Gaussian noise on each agent's heading at reset, radians. Default 0.1. */
    yawNoise: z.number().min(0).default(0.1),
    /** Std of the reset noise on non-quaternion positions (includes the torsos' x, y, z). Default 0.01. */
    qposNoise: z.number().min(0).default(0.01),
    /** Std of the reset noise on velocities. Default 0.1. */
    qvelNoise: z.number().min(0).default(0.1),
    /** A torso centre below this height has fallen (its sphere, radius 0.25, touches the floor). Default 0.26 m. */
    minTorsoHeight: z.number().min(0).default(0.26),
    /** A torso whose up axis tilts more than this from vertical has fallen. Default pi/2 (on its side or back). */
    maxTilt: z.number().min(0).max(Math.PI).default(Math.PI / 2),
    /** Contact wrenches are clipped to [-clip, clip] in the observation. Default 1. */
    contactForceClip: z.number().positive().default(1),
    /** Sparse reward of the winner, on the last step. Default 2000 (RoboSumo). */
    winReward: z.number().default(2000),
    /** Sparse reward of a loser (out of the ring or fallen), on the last step. Default -2000 (RoboSumo). */
    lossReward: z.number().default(-2000),
    /** Multiplier of the dense shaping terms (anneal it to 0 over training, as the paper). Default 1. */
    shapingWeight: z.number().min(0).default(1),
    /** c_move: reward per m/s of own speed toward the opponent (positive part). Default 0.1 (RoboSumo). */
    moveToOpponentCoeff: z.number().min(0).default(0.1),
    /** c_push: penalty c_push * exp(-|opponent xy|), pays pushing the opponent out. Default 10 (RoboSumo). */
    pushOpponentCoeff: z.number().min(0).default(10),
    /** c_center: reward c_center * exp(-|own xy|). Default 0.1 (RoboSumo's, there disabled). */
    stayInCenterCoeff: z.number().min(0).default(0.1),
    /** Weight of the control cost |a|^2 (not scaled by shapingWeight). Default 0.1 (RoboSumo). */
    ctrlCostCoeff: z.number().min(0).default(0.1),
  })
  .strict();
export type SumoEnvConfig = z.infer<typeof sumoEnvConfig>;

const yawQuaternion = (yaw: number) => [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)];

/**
 * One two-agent match. Rewards per agent a (b = the opponent, a = clipped action):
 *   r_a = shapingWeight * (moveToOpponent + pushOpponent + stayInCenter) - ctrlCostCoeff |a_a|^2
 *         + (on the last step of a decided match) winReward or lossReward
 */
export class SumoMatch implements Match {
  readonly sim: MjSim;
  private readonly layouts: ReturnType<typeof sumoAgentLayout>[];
  private readonly before = new Float64Array(4);
  private readonly obsLayout: ReturnType<typeof sumoObservationLayout>;

  constructor(
    xml: string,
    private readonly config: SumoEnvConfig,
    readonly legCount: number,
  ) {
    this.sim = new MjSim(xml);
    this.layouts = [0, 1].map((a) => sumoAgentLayout(legCount, a));
    this.obsLayout = sumoObservationLayout(legCount);
  }

  reset(tasks: readonly Task[], rng: Rng, obs: readonly Float32Array[]): void {
    // The first agent's task orients the start line; every task must be usable.
    const angle = sumoAngleParam(tasks[0], 'tasks[0]');
    tasks.forEach((t, i) => sumoAngleParam(t, `tasks[${i}]`));
    const c = this.config;
    this.sim.reset(rng, c.qposNoise, c.qvelNoise);
    const { qpos } = this.sim.views();
    for (let a = 0; a < 2; a++) {
      const q = this.layouts[a].qpos;
      const phi = angle + a * Math.PI;
      // Keep the reset noise, move the torso to its start position, face the centre.
      qpos[q] = c.startDistance * Math.cos(phi) + (qpos[q] - SUMO_MODEL_X[a]);
      qpos[q + 1] = c.startDistance * Math.sin(phi) + qpos[q + 1];
      qpos.set(yawQuaternion(phi + Math.PI + rng.normal(0, c.yawNoise)), q + 3);
    }
    this.sim.forward();
    this.sim.computeContactForces();
    this.observeAll(obs);
  }

  /** Moves agent `a`'s torso (tests and scripted setups): position and optionally quaternion; velocities zero. */
  placeTorso(a: number, xyz: readonly [number, number, number], quaternion: readonly number[] = [1, 0, 0, 0], obs?: readonly Float32Array[]): void {
    const { qpos, qvel } = this.sim.views();
    const l = this.layouts[a];
    qpos.set(xyz, l.qpos);
    qpos.set(quaternion, l.qpos + 3);
    qvel.fill(0, l.qvel, l.qvel + 6);
    this.sim.forward();
    this.sim.computeContactForces();
    if (obs) this.observeAll(obs);
  }

  torso(a: number): TorsoState {
    const { qpos } = this.sim.views();
    const q = this.layouts[a].qpos;
    return { x: qpos[q], y: qpos[q + 1], z: qpos[q + 2], up: upAxisZ(qpos[q + 4], qpos[q + 5]) };
  }

  step(actions: readonly Float32Array[], obs: readonly Float32Array[]): MatchStep {
    const c = this.config;
    const { qpos, ctrl } = this.sim.views();
    const cost = [0, 0];
    for (let a = 0; a < 2; a++) {
      const l = this.layouts[a];
      this.before[2 * a] = qpos[l.qpos];
      this.before[2 * a + 1] = qpos[l.qpos + 1];
      for (let j = 0; j < l.nu; j++) {
        const u = actions[a][j] < -1 ? -1 : actions[a][j] > 1 ? 1 : actions[a][j];
        ctrl[l.ctrl + j] = u;
        cost[a] += u * u;
      }
    }
    this.sim.step(c.frameSkip);
    this.sim.computeContactForces();
    this.observeAll(obs);
    const torsos = [this.torso(0), this.torso(1)] as const;
    const verdict = judgeSumo(torsos, c);
    const dt = c.frameSkip * this.sim.timestep;
    const rewards = [0, 1].map((a) => {
      const [me, opp] = [torsos[a], torsos[1 - a]];
      const s = shapingTerms([this.before[2 * a], this.before[2 * a + 1]], [me.x, me.y], [opp.x, opp.y], dt, c);
      const sparse = verdict.outcomes[a] > 0 ? c.winReward : verdict.outcomes[a] < 0 ? c.lossReward : 0;
      return c.shapingWeight * (s.moveToOpponent + s.pushOpponent + s.stayInCenter) - c.ctrlCostCoeff * cost[a] + sparse;
    });
    return verdict.terminated ? { rewards, terminated: true, outcomes: verdict.outcomes } : { rewards, terminated: false };
  }

  private observeAll(obs: readonly Float32Array[]): void {
    for (let a = 0; a < 2; a++) this.observe(a, obs[a]);
  }

  private observe(a: number, out: Float32Array): void {
    const { qpos, qvel, cfrcExt } = this.sim.views();
    const [me, op] = [this.layouts[a], this.layouts[1 - a]];
    const L = this.obsLayout;
    for (let i = 0; i < me.nq; i++) out[L.qpos + i] = qpos[me.qpos + i];
    for (let i = 0; i < me.nv; i++) out[L.qvel + i] = qvel[me.qvel + i];
    const clip = this.config.contactForceClip;
    for (let i = 0; i < 6 * me.bodies; i++) {
      const f = cfrcExt[6 * me.body + i];
      out[L.contacts + i] = f < -clip ? -clip : f > clip ? clip : f;
    }
    for (let i = 0; i < 3; i++) {
      out[L.opponentPosition + i] = qpos[op.qpos + i] - qpos[me.qpos + i];
      out[L.opponentVelocity + i] = qvel[op.qvel + i] - qvel[me.qvel + i];
      out[L.opponentAngularVelocity + i] = qvel[op.qvel + 3 + i];
    }
    for (let i = 0; i < 4; i++) out[L.opponentQuaternion + i] = qpos[op.qpos + 3 + i];
    out[L.ownDistance] = Math.hypot(qpos[me.qpos], qpos[me.qpos + 1]);
    out[L.opponentDistance] = Math.hypot(qpos[op.qpos], qpos[op.qpos + 1]);
  }

  close(): void {
    this.sim.close();
  }
}

/** The sumo environment: two agents per match; play it through VectorEnv (`createMatch`). */
export class SumoEnvironment implements SequentialEnvironment {
  readonly kind = 'sequential' as const;
  readonly name = 'robosumo';
  readonly version = '1.0.0';
  readonly family = 'robosumo';
  readonly agentsPerMatch = 2;
  readonly spec: EnvSpec;
  readonly description: string;
  readonly xml: string;
  readonly legCount: number;

  constructor(readonly config: SumoEnvConfig = sumoEnvConfig.parse({})) {
    const legs = LEGGED_ANATOMIES[config.agent];
    this.legCount = legs.length;
    this.xml = sumoXml({ legs, ringRadius: config.ringRadius, timestep: config.timestep });
    this.spec = locomotionSpec(sumoObservationLayout(legs.length).size, 2 * legs.length, config.horizon);
    this.description = `RoboSumo: two ${config.agent}s in a ring of radius ${config.ringRadius} m; out or fallen loses (${config.winReward}/${config.lossReward}), ${config.horizon} steps is a draw`;
  }

  validateTask(task: Task, field: string): void {
    sumoAngleParam(task, field);
  }

  async ready(): Promise<void> {
    await ensureMujoco();
  }

  createMatch(): SumoMatch {
    return new SumoMatch(this.xml, this.config, this.legCount);
  }

  createWorld(): World {
    throw failedPrecondition(`"${this.name}" has ${this.agentsPerMatch} agents per match: step it through VectorEnv, which calls createMatch()`);
  }
}

export const sumoEnv = (config?: SumoEnvConfig) => new SumoEnvironment(config);

// ---- plugins ---------------------------------------------------------------------------

export const sumoFamilyPlugin: PluginManifest<'task-family', SumoFamilyConfig, TaskFamily> = {
  kind: 'task-family',
  name: 'robosumo',
  version: '1.0.0',
  description: 'RoboSumo rounds of iterated adaptation games (100 rounds per game)',
  configSchema: sumoFamilyConfig,
  create: (c) => new SumoFamily(c),
};

export const sumoEnvPlugin: PluginManifest<'environment', SumoEnvConfig, SequentialEnvironment> = {
  kind: 'environment',
  name: 'robosumo',
  version: '1.0.0',
  description: 'MuJoCo RoboSumo: two legged agents per match in a ring (2 worlds per match; needs `await ensureMujoco()`)',
  configSchema: sumoEnvConfig,
  create: (c) => new SumoEnvironment(c),
};
