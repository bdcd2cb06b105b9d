import { checkTimestep, floorGeom, gearScales, mjcfDocument, num, vec } from './mjcf';

/**
 * A planar cat-like runner in the spirit of Wawrzyński's cheetah (the HalfCheetah of
 * gym/rllab), written from scratch: a capsule torso with a head, a back and a front leg of
 * three hinged segments each (thigh, shin, foot). The torso moves in the x-z plane through
 * three root joints (slide x, slide z, hinge y), so nq = nv = 9 and nu = 6.
 * Geometry, masses and gears: models/README.md.
 */

/** One hinged leg segment: a capsule from its joint to `tip` (x, z in the parent frame). */
interface Segment {
  readonly name: string;
  /** Joint limits, radians. */
  readonly range: readonly [number, number];
  /** Passive spring to the reference pose, N m / rad: keeps an idle leg under the body. */
  readonly stiffness: number;
  readonly damping: number;
  /** Actuator gear, N m per unit control. */
  readonly gear: number;
  readonly tip: readonly [number, number];
}

const BACK_LEG: readonly Segment[] = [
  { name: 'bthigh', range: [-0.5, 1.0], stiffness: 200, damping: 5, gear: 120, tip: [0.2, -0.26] },
  { name: 'bshin', range: [-0.75, 0.75], stiffness: 160, damping: 4.5, gear: 90, tip: [-0.28, -0.14] },
  { name: 'bfoot', range: [-0.4, 0.75], stiffness: 110, damping: 3, gear: 60, tip: [0.03, -0.2] },
];

const FRONT_LEG: readonly Segment[] = [
  { name: 'fthigh', range: [-1.0, 0.7], stiffness: 180, damping: 4.5, gear: 120, tip: [-0.14, -0.24] },
  { name: 'fshin', range: [-1.2, 0.85], stiffness: 120, damping: 3, gear: 60, tip: [0.1, -0.2] },
  { name: 'ffoot', range: [-0.5, 0.5], stiffness: 60, damping: 1.5, gear: 30, tip: [0.06, -0.13] },
];

/** Actuated joints in actuator order (back leg, then front leg, hip to paw). */
export const HALF_CHEETAH_ACTUATORS: readonly string[] = [...BACK_LEG, ...FRONT_LEG].map((s) => s.name);

/** Sizes of the compiled model (checked against MuJoCo by the tests). */
export const HALF_CHEETAH_SIZES = { nq: 9, nv: 9, nu: 6 } as const;

const RADIUS = 0.046;
const HALF_LENGTH = 0.5;
const TOTAL_MASS = 14;

export interface HalfCheetahModelOptions {
  /** Integration step, seconds. Default 0.01. */
  readonly timestep?: number;
  /**
   * Per-actuator gear multipliers in {@link HALF_CHEETAH_ACTUATORS} order (the model-level
   * torque hook: e.g. a weakened leg). Default all 1.
   */
  readonly gearScale?: readonly number[];
  /** Ground friction coefficient (tangential). Default 0.4. */
  readonly friction?: number;
}

/** Nested bodies of a leg: each segment's body sits at its parent's tip (`at`, x and z). */
function leg(segments: readonly Segment[], at: readonly [number, number], indent: string): string {
  if (segments.length === 0) return '';
  const [s, ...rest] = segments;
  const [tx, tz] = s.tip;
  return `
${indent}<body name="${s.name}" pos="${vec(at[0], 0, at[1])}">
${indent}  <joint name="${s.name}" type="hinge" axis="0 1 0" range="${vec(...s.range)}" stiffness="${num(s.stiffness)}" damping="${num(s.damping)}"/>
${indent}  <geom name="${s.name}" type="capsule" fromto="${vec(0, 0, 0, tx, 0, tz)}" size="${num(RADIUS)}"/>${leg(rest, s.tip, indent + '  ')}
${indent}</body>`;
}

/** The MJCF document of the half cheetah. */
export function halfCheetahXml(options: HalfCheetahModelOptions = {}): string {
  const timestep = options.timestep ?? 0.01;
  checkTimestep(timestep, 'timestep');
  const scale = gearScales(options.gearScale, HALF_CHEETAH_ACTUATORS.length, 'gearScale');
  const friction = options.friction ?? 0.4;
  const gears = [...BACK_LEG, ...FRONT_LEG].map((s, i) => s.gear * scale[i]);
  const root = (name: string, type: string, axis: string) =>
    `<joint name="${name}" type="${type}" axis="${axis}" limited="false" armature="0" damping="0" stiffness="0"/>`;
  return mjcfDocument({
    model: 'chameleon-half-cheetah',
    timestep,
    memory: '256K',
    // Masses follow the geoms' volumes, rescaled so the whole runner weighs 14 kg.
    compiler: `settotalmass="${num(TOTAL_MASS)}"`,
    defaults: `
    <joint limited="true" armature="0.1"/>
    <geom contype="1" conaffinity="0" condim="3" friction="${vec(friction, 0.1, 0.1)}" rgba="0.85 0.6 0.35 1"/>`,
    worldbody: `${floorGeom(friction)}
    <body name="torso" pos="0 0 0.7">
      ${root('rootx', 'slide', '1 0 0')}
      ${root('rootz', 'slide', '0 0 1')}
      ${root('rooty', 'hinge', '0 1 0')}
      <geom name="torso" type="capsule" fromto="${vec(-HALF_LENGTH, 0, 0, HALF_LENGTH, 0, 0)}" size="${num(RADIUS)}"/>
      <geom name="head" type="capsule" fromto="${vec(HALF_LENGTH, 0, 0, HALF_LENGTH + 0.17, 0, 0.14)}" size="${num(RADIUS)}"/>
      ${leg(BACK_LEG, [-HALF_LENGTH, 0], '      ')}
      ${leg(FRONT_LEG, [HALF_LENGTH, 0], '      ')}
    </body>`,
    actuators: HALF_CHEETAH_ACTUATORS.map((name, i) => `
    <motor name="${name}" joint="${name}" gear="${num(gears[i])}"/>`).join(''),
  });
}

/** The default half cheetah (timestep 0.01 s, unscaled gears). */
export const HALF_CHEETAH_XML = halfCheetahXml();
