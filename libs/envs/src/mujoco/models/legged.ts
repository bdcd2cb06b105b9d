import { invalidArgument } from '@chameleon/core';
import { checkTimestep, floorGeom, gearScales, mjcfDocument, num, vec } from './mjcf';

/**
 * Radial-legged walkers (the Ant of rllab/gym and its relatives), written from scratch: a
 * spherical torso on a free joint and N legs spread around it, each with a hip (yaw, about z)
 * and an ankle (pitch, about the horizontal axis across the leg). Four diagonal legs make the
 * Ant-like quadruped; six legs at 60 degrees make the "bug" of continuous-adaptation
 * experiments; `prefix` lets two agents share one arena (RoboSumo). See models/README.md.
 */

export interface LegSpec {
  /** Unique within the agent; becomes body, joint and actuator names. */
  readonly name: string;
  /** Direction of the leg around the torso, radians from +x towards +y. */
  readonly angle: number;
}

/** The quadruped's legs, in actuator order: [hip, ankle] per leg. */
export const ANT_LEGS: readonly LegSpec[] = [
  { name: 'front_left', angle: Math.PI / 4 },
  { name: 'front_right', angle: -Math.PI / 4 },
  { name: 'back_left', angle: (3 * Math.PI) / 4 },
  { name: 'back_right', angle: (-3 * Math.PI) / 4 },
];

/** Legs of a six-legged "bug": 0, 60, ..., 300 degrees. */
export const HEXAPOD_LEGS: readonly LegSpec[] = Array.from({ length: 6 }, (_, i) => ({ name: `leg${i}`, angle: (i * Math.PI) / 3 }));

/** Legs of an eight-legged "spider": every 45 degrees starting at 22.5, symmetric about x. */
export const SPIDER_LEGS: readonly LegSpec[] = Array.from({ length: 8 }, (_, i) => ({ name: `leg${i}`, angle: ((i + 0.5) * Math.PI) / 4 }));

/** The anatomies of the continuous-adaptation experiments (Al-Shedivat et al. 2018, figure 2a). */
export const LEGGED_ANATOMIES = { ant: ANT_LEGS, bug: HEXAPOD_LEGS, spider: SPIDER_LEGS } as const;
export type Anatomy = keyof typeof LEGGED_ANATOMIES;
export const ANATOMY_NAMES = Object.keys(LEGGED_ANATOMIES) as Anatomy[];

/** Geometry shared by every radial-legged agent, metres / radians / N m. */
export const LEGGED_GEOMETRY = {
  torsoRadius: 0.25,
  limbRadius: 0.08,
  /** Horizontal length of the fixed hip strut, the thigh (hip to ankle) and the shin's reach. */
  strut: 0.28,
  thigh: 0.28,
  shinReach: 0.25,
  shinDrop: 0.35,
  hipRange: [-0.52, 0.52] as const,
  ankleRange: [-0.35, 0.5] as const,
  gear: 150,
  /** Initial height of the torso centre. */
  height: 0.75,
} as const;

export interface LeggedAgentOptions {
  /** Prefix of every name of this agent (two agents in one model need different ones). Default ''. */
  readonly prefix?: string;
  /** Legs, in actuator order. Default {@link ANT_LEGS}. */
  readonly legs?: readonly LegSpec[];
  /** Torso start position. Default [0, 0, 0.75]. */
  readonly position?: readonly [number, number, number];
  /** Per-actuator gear multipliers ([hip, ankle] per leg); the model-level torque hook. Default all 1. */
  readonly gearScale?: readonly number[];
  /** Collision bitmasks: (1, 0) touches only the floor; (3, 2) also touches another agent with (3, 2). Default [1, 0]. */
  readonly collision?: readonly [contype: number, conaffinity: number];
  readonly rgba?: string;
}

/** The `<body>` of one agent (for `<worldbody>`) and its `<motor>`s (for `<actuator>`). */
export function leggedAgent(options: LeggedAgentOptions = {}): { body: string; actuators: string; actuatorNames: string[] } {
  const g = LEGGED_GEOMETRY;
  const p = options.prefix ?? '';
  const legs = options.legs ?? ANT_LEGS;
  if (legs.length < 1 || new Set(legs.map((l) => l.name)).size !== legs.length) throw invalidArgument('legs', 'need at least one leg and unique leg names');
  const scale = gearScales(options.gearScale, 2 * legs.length, 'gearScale');
  const [contype, conaffinity] = options.collision ?? [1, 0];
  const [x, y, z] = options.position ?? [0, 0, g.height];
  const rgba = options.rgba ?? '0.8 0.6 0.4 1';
  const geom = (name: string, to: number[]) =>
    `<geom name="${p}${name}" type="capsule" fromto="${vec(0, 0, 0, ...to)}" size="${num(g.limbRadius)}" contype="${contype}" conaffinity="${conaffinity}" rgba="${rgba}"/>`;
  const struts = legs.map((l) => geom(`${l.name}_strut`, [g.strut * Math.cos(l.angle), g.strut * Math.sin(l.angle), 0])).join('\n      ');
  const limbs = legs.map((l) => {
    const [c, s] = [Math.cos(l.angle), Math.sin(l.angle)];
    return `
      <body name="${p}${l.name}_thigh" pos="${vec(g.strut * c, g.strut * s, 0)}">
        <joint name="${p}${l.name}_hip" type="hinge" axis="0 0 1" range="${vec(...g.hipRange)}"/>
        ${geom(`${l.name}_thigh`, [g.thigh * c, g.thigh * s, 0])}
        <body name="${p}${l.name}_shin" pos="${vec(g.thigh * c, g.thigh * s, 0)}">
          <joint name="${p}${l.name}_ankle" type="hinge" axis="${vec(-s, c, 0)}" range="${vec(...g.ankleRange)}"/>
          ${geom(`${l.name}_shin`, [g.shinReach * c, g.shinReach * s, -g.shinDrop])}
        </body>
      </body>`;
  });
  const actuatorNames = legs.flatMap((l) => [`${p}${l.name}_hip`, `${p}${l.name}_ankle`]);
  return {
    body: `
    <body name="${p}torso" pos="${vec(x, y, z)}">
      <freejoint name="${p}root"/>
      <geom name="${p}torso" type="sphere" size="${num(g.torsoRadius)}" contype="${contype}" conaffinity="${conaffinity}" rgba="${rgba}"/>
      ${struts}${limbs.join('')}
    </body>`,
    actuators: actuatorNames.map((n, i) => `
    <motor name="${n}" joint="${n}" gear="${num(g.gear * scale[i])}"/>`).join(''),
    actuatorNames,
  };
}

/** Defaults of every legged model: light limbs (density 5) with heavy armature, as the Ant kind. */
export const LEGGED_DEFAULTS = `
    <joint limited="true" armature="1" damping="1"/>
    <geom density="5" condim="3" friction="1 0.5 0.5" margin="0.01"/>`;

export interface LeggedModelOptions extends Omit<LeggedAgentOptions, 'prefix' | 'collision'> {
  /** Integration step, seconds. Default 0.01. */
  readonly timestep?: number;
}

/** A single legged agent on a flat floor; with the defaults, the Ant-like quadruped. */
export function leggedXml(options: LeggedModelOptions = {}): string {
  const timestep = options.timestep ?? 0.01;
  checkTimestep(timestep, 'timestep');
  const agent = leggedAgent(options);
  return mjcfDocument({
    model: 'chameleon-legged',
    timestep,
    memory: '256K',
    defaults: LEGGED_DEFAULTS,
    worldbody: `${floorGeom(1)}${agent.body}`,
    actuators: agent.actuators,
  });
}

/** The default Ant-like quadruped (timestep 0.01 s, unscaled gears). */
export const ANT_XML = leggedXml();

/** Sizes of the compiled quadruped: free joint (7 qpos, 6 qvel) + 2 hinges per leg; bodies incl. world. */
export const legSizes = (legs: number) => ({ nq: 7 + 2 * legs, nv: 6 + 2 * legs, nu: 2 * legs, nbody: 2 + 2 * legs });
export const ANT_SIZES = legSizes(ANT_LEGS.length);
