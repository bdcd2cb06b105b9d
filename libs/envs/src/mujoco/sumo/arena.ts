import { LEGGED_DEFAULTS, legSizes, leggedAgent, type LegSpec } from '../models/legged';
import { checkTimestep, floorGeom, mjcfDocument, vec } from '../models/mjcf';

/**
 * The RoboSumo-like arena: a flat floor, a ring of radius R drawn on it (a visual disc: it
 * neither collides nor constrains) and two radial-legged agents "a0/" and "a1/". See README.md.
 */
export interface SumoArenaOptions {
  readonly legs: readonly LegSpec[];
  /** Radius of the ring, metres (visual only; the rules read it from the config). */
  readonly ringRadius: number;
  /** Integration step, seconds. */
  readonly timestep: number;
}

/**
 * Collision masks: each agent touches the floor and the other agent, never itself (as the
 * single-agent bodies, which only touch the floor). Floor (1, 1); a0 (2, 5); a1 (4, 3):
 * a0-a1: 2 & 3; a0-floor: 1 & 5; a1-floor: 1 & 3; a0-a0: 2 & 5 = 0; a1-a1: 4 & 3 = 0.
 */
export const SUMO_COLLISION: readonly (readonly [number, number])[] = [
  [2, 5],
  [4, 3],
];

/** Where the model places the agents before each reset moves them: (-1, 0) and (1, 0), facing +x. */
export const SUMO_MODEL_X = [-1, 1] as const;

export function sumoXml(o: SumoArenaOptions): string {
  checkTimestep(o.timestep, 'timestep');
  const colours = ['0.25 0.45 0.85 1', '0.85 0.3 0.25 1'];
  const agents = [0, 1].map((a) => leggedAgent({ prefix: `a${a}/`, legs: o.legs, position: [SUMO_MODEL_X[a], 0, 0.75], collision: SUMO_COLLISION[a] as [number, number], rgba: colours[a] }));
  const ring = `
    <geom name="ring" type="cylinder" size="${vec(o.ringRadius, 0.002)}" pos="0 0 0.002" contype="0" conaffinity="0" rgba="0.65 0.57 0.31 1"/>`;
  return mjcfDocument({
    model: 'chameleon-sumo',
    timestep: o.timestep,
    // Two agents in contact need more constraint memory than one (peak about 60 KB measured).
    memory: '1M',
    defaults: LEGGED_DEFAULTS,
    worldbody: `${floorGeom(1)}${ring}${agents[0].body}${agents[1].body}`,
    actuators: agents[0].actuators + agents[1].actuators,
  });
}

/** Index ranges of one agent in the two-agent model (agent a's blocks follow agent 0's). */
export function sumoAgentLayout(legCount: number, agent: number) {
  const s = legSizes(legCount);
  const bodies = s.nbody - 1;
  return {
    qpos: agent * s.nq,
    qvel: agent * s.nv,
    ctrl: agent * s.nu,
    /** First body (after the world body) of this agent. */
    body: 1 + agent * bodies,
    nq: s.nq,
    nv: s.nv,
    nu: s.nu,
    bodies,
  };
}
