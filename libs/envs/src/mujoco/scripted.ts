import { LEGGED_ANATOMIES, type Anatomy, type LegSpec } from './models/legged';
import { sumoObservationLayout } from './sumo/rules';

/**
 * Scripted policies for tests and baselines: functions of the observation (and, optionally,
 * the step number within the episode, 0 at FIRST) returning actions in [-1, 1]. Given `step`
 * they are pure. Without it, the gaits use the number of the policy's earlier calls as their
 * clock: a gait is periodic, so where an episode starts in its cycle does not matter, and the
 * function fits an agent wrapper that passes the observation only.
 *
 * @example
 *   const push = pushTowardOpponent('ant');
 *   actions.set(push(obs.subarray(0, 98), t), 0);
 */
export type ScriptedPolicy = (observation: Float32Array, step?: number) => Float32Array;

/** A clock for policies called without `step`: counts calls. */
function clocked(f: (observation: Float32Array, step: number) => Float32Array): ScriptedPolicy {
  let calls = 0;
  return (observation, step) => f(observation, step ?? calls++);
}

export interface GaitOptions {
  /** Stride frequency, Hz. Default 2. */
  readonly frequency?: number;
  /** Hip swing amplitude (action units, weighted by the leg's angle to the heading). Default 0.3. */
  readonly hipAmplitude?: number;
  /** Ankle lift amplitude (action units). Default 0.1. */
  readonly ankleAmplitude?: number;
  /** Lead of the hip's sweep over the ankle's lift, radians. Default 0. */
  readonly hipPhase?: number;
  /** Duration of one environment step, seconds (frameSkip x timestep). Default 0.05. */
  readonly stepSeconds?: number;
}

/**
 * Alternating gait (trot for 4 legs, tripod for 6, alternating for 8) that walks along
 * `heading` (radians, body frame; 0 = +x): legs alternate by angle; in each leg's stance half
 * its ankle presses down (ankle = A_a sin(phase)) while its hip sweeps the foot backwards
 * relative to the heading (hip = -A_h sin(angle - heading) cos(phase + hipPhase)). Bare
 * defaults below; {@link DEFAULT_GAITS} has tuned ones per anatomy.
 */
export function gaitAction(legs: readonly LegSpec[], step: number, heading: number, options: GaitOptions, out: Float32Array): Float32Array {
  const { frequency = 2, hipAmplitude = 0.3, ankleAmplitude = 0.1, hipPhase = 0, stepSeconds = 0.05 } = options;
  const w = 2 * Math.PI * frequency * step * stepSeconds;
  const group = alternatingGroups(legs);
  legs.forEach((leg, i) => {
    const phase = w + Math.PI * group[i];
    out[2 * i] = clip(-hipAmplitude * Math.sin(leg.angle - heading) * Math.cos(phase + hipPhase));
    out[2 * i + 1] = clip(ankleAmplitude * Math.sin(phase));
  });
  return out;
}

const clip = (x: number) => (x < -1 ? -1 : x > 1 ? 1 : x);

/** 0/1 per leg, alternating around the torso (so neighbours are in opposite phases). */
function alternatingGroups(legs: readonly LegSpec[]): number[] {
  const turn = (a: number) => ((a % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
  const order = legs.map((l, i) => [turn(l.angle), i] as const).sort((a, b) => a[0] - b[0]);
  const group = new Array<number>(legs.length);
  order.forEach(([, i], rank) => (group[i] = rank % 2));
  return group;
}

/**
 * Gait settings per anatomy, from a sweep over frequency {2, 3} Hz, amplitudes and hip phase
 * {0, pi/2} (8 sumo matches against an idle opponent each): the pusher won 5/8 (ant), 8/8
 * (bug) and 7/8 (spider) matches; walking alone all three move forward without falling over.
 */
export const DEFAULT_GAITS: Readonly<Record<Anatomy, GaitOptions>> = {
  ant: { frequency: 2, hipAmplitude: 0.3, ankleAmplitude: 0.15, hipPhase: Math.PI / 2 },
  bug: { frequency: 2, hipAmplitude: 0.3, ankleAmplitude: 0.15, hipPhase: 0 },
  spider: { frequency: 2, hipAmplitude: 0.3, ankleAmplitude: 0.1, hipPhase: 0 },
};

const resolve = (anatomy: Anatomy | readonly LegSpec[], options: GaitOptions) =>
  typeof anatomy === 'string' ? { legs: LEGGED_ANATOMIES[anatomy], options: { ...DEFAULT_GAITS[anatomy], ...options } } : { legs: anatomy, options };

/** Open-loop "constant gait" along the body's +x (locomotion baseline; ignores the observation). */
export function constantGait(anatomy: Anatomy | readonly LegSpec[], options: GaitOptions = {}): ScriptedPolicy {
  const g = resolve(anatomy, options);
  return clocked((_obs, step) => gaitAction(g.legs, step, 0, g.options, new Float32Array(2 * g.legs.length)));
}

/** Zero torques: stands (or lies) still. */
export const idlePolicy =
  (actionSize: number): ScriptedPolicy =>
  () =>
    new Float32Array(actionSize);

/** Heading of a torso with quaternion (w, x, y, z): rotation about world z, radians. */
export const yawOf = (w: number, x: number, y: number, z: number) => Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));

/**
 * Sumo: walk toward the opponent (and through it) with the gait, steering every step by the
 * opponent's direction in the body frame, read from the observation (own quaternion, the
 * opponent's relative position).
 */
export function pushTowardOpponent(anatomy: Anatomy, options: GaitOptions = {}): ScriptedPolicy {
  const g = resolve(anatomy, options);
  const L = sumoObservationLayout(g.legs.length);
  return clocked((obs, step) => {
    const q = L.qpos + 3;
    const yaw = yawOf(obs[q], obs[q + 1], obs[q + 2], obs[q + 3]);
    const toward = Math.atan2(obs[L.opponentPosition + 1], obs[L.opponentPosition]);
    return gaitAction(g.legs, step, toward - yaw, g.options, new Float32Array(2 * g.legs.length));
  });
}
