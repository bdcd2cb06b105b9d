import { legSizes } from '../models/legged';

/**
 * The sumo rules and rewards as pure functions of the torsos' states, so tests and baselines
 * can evaluate them on scripted states. See README.md for the numbers.
 */

/** What the rules read of one agent's torso. */
export interface TorsoState {
  /** Torso centre, world frame, metres. */
  readonly x: number;
  readonly y: number;
  readonly z: number;
  /** z component of the torso's up axis (1 upright, 0 on its side, -1 upside down). */
  readonly up: number;
}

export interface SumoRules {
  /** An agent whose torso centre is farther than this from the centre (in xy) is out. */
  readonly ringRadius: number;
  /** An agent whose torso centre is lower than this has fallen. */
  readonly minTorsoHeight: number;
  /** An agent whose torso's up axis tilts more than this (radians) from vertical has fallen. */
  readonly maxTilt: number;
}

/** Up-axis z component of a torso with quaternion (w, x, y, z): the (2, 2) entry of its rotation matrix. */
export const upAxisZ = (qx: number, qy: number): number => 1 - 2 * (qx * qx + qy * qy);

/** Why an agent loses now, or undefined while it is in play. */
export function lossReason(t: TorsoState, rules: SumoRules): 'out' | 'fallen' | undefined {
  if (Math.hypot(t.x, t.y) > rules.ringRadius) return 'out';
  if (t.z < rules.minTorsoHeight || t.up < Math.cos(rules.maxTilt)) return 'fallen';
  return undefined;
}

/**
 * The referee: the match ends when either agent is out or has fallen. One loser: it gets -1,
 * the other +1. Both at once: both lose (-1, -1), nobody won.
 */
export function judgeSumo(torsos: readonly [TorsoState, TorsoState], rules: SumoRules): { terminated: boolean; outcomes: [number, number] } {
  const lost = torsos.map((t) => lossReason(t, rules) !== undefined);
  if (!lost[0] && !lost[1]) return { terminated: false, outcomes: [0, 0] };
  if (lost[0] && lost[1]) return { terminated: true, outcomes: [-1, -1] };
  return { terminated: true, outcomes: lost[0] ? [-1, 1] : [1, -1] };
}

export interface ShapingCoefficients {
  readonly moveToOpponentCoeff: number;
  readonly pushOpponentCoeff: number;
  readonly stayInCenterCoeff: number;
}

/**
 * Dense shaping terms of one agent for one step (RoboSumo's): `self0`/`self1` its torso xy
 * before/after the step, `opp1` the opponent's after, `dt` the step's duration.
 *   moveToOpponent = c_move * max(0, v . (opp1 - self0) / |opp1 - self0|), v = (self1 - self0) / dt
 *   pushOpponent   = -c_push * exp(-|opp1|)
 *   stayInCenter   =  c_center * exp(-|self1|)
 */
export function shapingTerms(self0: readonly [number, number], self1: readonly [number, number], opp1: readonly [number, number], dt: number, c: ShapingCoefficients) {
  const [dx, dy] = [opp1[0] - self0[0], opp1[1] - self0[1]];
  const d = Math.hypot(dx, dy);
  const toward = d > 0 ? ((self1[0] - self0[0]) * dx + (self1[1] - self0[1]) * dy) / (dt * d) : 0;
  return {
    moveToOpponent: c.moveToOpponentCoeff * Math.max(0, toward),
    pushOpponent: -c.pushOpponentCoeff * Math.exp(-Math.hypot(opp1[0], opp1[1])),
    stayInCenter: c.stayInCenterCoeff * Math.exp(-Math.hypot(self1[0], self1[1])),
  };
}

/**
 * Offsets in one agent's observation (n legs). Own state as the single-agent legged bodies
 * (qpos, qvel, clipped contact wrenches), then the opponent's torso relative to self, then
 * both distances to the centre. Ant: 15 + 14 + 54 + 3 + 4 + 3 + 3 + 1 + 1 = 98.
 */
export function sumoObservationLayout(legCount: number) {
  const s = legSizes(legCount);
  const opp = s.nq + s.nv + 6 * (s.nbody - 1);
  return {
    /** Own qpos: torso x, y, z, quaternion w x y z, then [hip, ankle] angles per leg. */
    qpos: 0,
    /** Own qvel: torso linear velocity (world), angular velocity (torso frame), joint velocities. */
    qvel: s.nq,
    /** Own clip(cfrc_ext) of each non-world body of this agent, 6 per body. */
    contacts: s.nq + s.nv,
    /** Opponent torso position minus own, world frame (3). */
    opponentPosition: opp,
    /** Opponent torso quaternion w x y z (4). */
    opponentQuaternion: opp + 3,
    /** Opponent torso linear velocity minus own, world frame (3). */
    opponentVelocity: opp + 7,
    /** Opponent torso angular velocity, its own frame (3). */
    opponentAngularVelocity: opp + 10,
    /** Own torso's xy distance from the ring centre (1). */
    ownDistance: opp + 13,
    /** Opponent torso's xy distance from the ring centre (1). */
    opponentDistance: opp + 14,
    size: opp + 15,
  } as const;
}
export type SumoObservationLayout = ReturnType<typeof sumoObservationLayout>;
