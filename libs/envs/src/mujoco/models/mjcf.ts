import { invalidArgument } from '@chameleon/core';

/**
 * Small helpers for writing MJCF from TypeScript. Models are generated strings (never files
 * read at run time), so parameterised variants (gear scales, more legs, two agents) are just
 * function arguments, and the runtime's model cache keys on the resulting string.
 */

/** A number as MJCF wants it: plain decimal, at most 6 decimals, no "-0". */
export function num(x: number): string {
  if (!Number.isFinite(x)) throw invalidArgument('mjcf', `non-finite number ${x}`);
  const s = x.toFixed(6).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

export const vec = (...xs: readonly number[]): string => xs.map(num).join(' ');

/** Everything a single-file MJCF document needs. */
export interface MjcfParts {
  readonly model: string;
  /** Integration step, seconds. */
  readonly timestep: number;
  /**
   * Arena per MjData (MuJoCo `<size memory>`). MuJoCo's default reserves about 13 MB per world,
   * which caps a 2 GB wasm heap at ~150 worlds; our bodies need far less (see models/README.md).
   */
  readonly memory: string;
  /** Contents of `<default>`. */
  readonly defaults: string;
  /** Contents of `<worldbody>`. */
  readonly worldbody: string;
  /** Contents of `<actuator>`. */
  readonly actuators: string;
  /** Extra `<compiler>` attributes, e.g. `settotalmass="14"`. */
  readonly compiler?: string;
  /** Optional `<contact>` contents (pairs, excludes). */
  readonly contact?: string;
}

export function mjcfDocument(p: MjcfParts): string {
  return [
    `<mujoco model="${p.model}">`,
    `  <compiler angle="radian" inertiafromgeom="true"${p.compiler ? ` ${p.compiler}` : ''}/>`,
    `  <option timestep="${num(p.timestep)}" gravity="0 0 -9.81"/>`,
    `  <size memory="${p.memory}"/>`,
    `  <default>${p.defaults}</default>`,
    `  <worldbody>${p.worldbody}</worldbody>`,
    `  <actuator>${p.actuators}</actuator>`,
    p.contact ? `  <contact>${p.contact}</contact>` : '',
    `</mujoco>`,
  ].join('\n');
}

/**
 * A flat floor that collides with every geom whose contype has bit 1. MuJoCo takes the larger
 * friction of two touching geoms, so the floor's friction must not exceed the body's.
 */
export const floorGeom = (friction: number, halfSize = 40) => `
    <geom name="floor" type="plane" size="${vec(halfSize, halfSize, 1)}" contype="1" conaffinity="1" friction="${vec(friction, 0.1, 0.1)}" rgba="0.5 0.55 0.6 1"/>`;

/**
 * Validates a per-actuator multiplier list (the model-level torque hook): `n` finite
 * non-negative numbers, or undefined for all ones.
 */
export function gearScales(scale: readonly number[] | undefined, n: number, field: string): number[] {
  if (scale === undefined) return new Array<number>(n).fill(1);
  if (scale.length !== n) throw invalidArgument(field, `must hold ${n} values (one per actuator), got ${scale.length}`);
  scale.forEach((s, i) => {
    if (!Number.isFinite(s) || s < 0) throw invalidArgument(`${field}[${i}]`, `must be a finite number >= 0, got ${s}`);
  });
  return [...scale];
}

export function checkTimestep(timestep: number, field = 'timestep'): void {
  if (!(Number.isFinite(timestep) && timestep > 0 && timestep <= 0.1)) throw invalidArgument(field, `must be in (0, 0.1] seconds, got ${timestep}`);
}
