import { z } from 'zod';
import { invalidArgument, Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { SplitName, Task, TaskFamily } from '@chameleon/tasks';
import type { SequentialEnvironment } from '../../rl/environment';
import { AntWorld, leggedEnvFields, type LeggedWorldConfig } from '../ant/ant';
import { locomotionSpec, MujocoEnvironment } from '../locomotion';
import { ANATOMY_NAMES, LEGGED_ANATOMIES, legSizes, leggedXml, type Anatomy, type LegSpec } from '../models/legged';

/**
 * Nonstationary locomotion (Al-Shedivat et al. 2018, section 5.1): run forward while the
 * torques of two legs fade along a sequence of episodes T_1 .. T_L. See README.md.
 */

/** Observation size of a radial-legged body with n legs: qpos, qvel, clipped cfrc_ext of the non-world bodies. */
export const leggedObservationSize = (legs: number) => {
  const s = legSizes(legs);
  return s.nq + s.nv + 6 * (s.nbody - 1);
};

// ---- task families ---------------------------------------------------------------------

export const nonstationaryFamilyConfig = z
  .object({
    /** L: episodes (tasks) per sequence. Default 7 (the paper's sequences of 7 episodes). */
    sequenceLength: z.number().int().min(1).max(10_000).default(7),
    /** Torque factor of the two legs at T_1 (position 0). Default 1 (fully functional). */
    scaleFrom: z.number().min(0).default(1),
    /** Torque factor at T_L (position L - 1); linear in between. Default 0 (paralysed). */
    scaleTo: z.number().min(0).default(0),
    /** Which pairs a sequence may weaken, uniformly: 'any' two legs, or two 'adjacent' ones (neighbours by angle). Default 'any'. */
    pairs: z.enum(['any', 'adjacent']).default('any'),
  })
  .strict();
export type NonstationaryFamilyConfig = z.infer<typeof nonstationaryFamilyConfig>;

/** Every pair [i, j] (i < j) of legs; adjacent = neighbours around the torso. */
export function legPairs(legs: readonly LegSpec[], which: 'any' | 'adjacent'): Array<[number, number]> {
  const n = legs.length;
  if (which === 'any') return Array.from({ length: n }, (_, i) => Array.from({ length: n - i - 1 }, (_, d) => [i, i + d + 1] as [number, number])).flat();
  const turn = (a: number) => ((a % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
  const order = legs.map((l, i) => [turn(l.angle), i] as const).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  const pairs = order.map((i, r) => [i, order[(r + 1) % n]].sort((a, b) => a - b) as [number, number]);
  return n === 2 ? pairs.slice(0, 1) : pairs;
}

/**
 * A sequence family: task `index` of a (split, seed) stream is position i = index mod L of
 * sequence k = floor(index / L). The pair of legs is drawn once per sequence (from (split,
 * seed, k)); the factor follows the schedule scale_i = from + (to - from) i / (L - 1).
 * Params: `{ sequence: k, position: i, length: L, legs: [a, b], scale }`.
 */
export class NonstationaryLegsFamily implements TaskFamily {
  readonly name: string;
  readonly version = '1.0.0';
  readonly description: string;
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];
  readonly sequenceLength: number;
  private readonly pairs: Array<[number, number]>;

  constructor(
    readonly anatomy: Anatomy,
    readonly config: NonstationaryFamilyConfig = nonstationaryFamilyConfig.parse({}),
  ) {
    const legs = LEGGED_ANATOMIES[anatomy];
    this.name = `nonstationary-${anatomy}`;
    this.sequenceLength = config.sequenceLength;
    this.pairs = legPairs(legs, config.pairs);
    this.description = `${anatomy} (${legs.length} legs): torques of ${config.pairs === 'any' ? 'two' : 'two adjacent'} legs scaled ${config.scaleFrom} -> ${config.scaleTo} over ${config.sequenceLength} episodes`;
  }

  /** The factor at position i of a sequence. */
  scaleAt(position: number): number {
    const { scaleFrom: a, scaleTo: b, sequenceLength: L } = this.config;
    return L === 1 ? a : a + ((b - a) * position) / (L - 1);
  }

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const L = this.sequenceLength;
    const [sequence, position] = [Math.floor(index / L), index % L];
    const rng = Rng.fromKeys(this.name, split, seed, 'sequence', sequence);
    const legs = this.pairs[rng.int(this.pairs.length)];
    return { sequence, position, length: L, legs: [...legs], scale: this.scaleAt(position) };
  }
}

export const nonstationaryFamily = (anatomy: Anatomy, config?: NonstationaryFamilyConfig) => new NonstationaryLegsFamily(anatomy, config);

/** `{ legs: [a, b], scale }` of a task; INVALID_ARGUMENT names `<field>.params.<name>`. */
export function scaledLegsParam(task: Task, legCount: number, field = 'task'): { legs: [number, number]; scale: number } {
  const { legs, scale } = task.params;
  const okLeg = (l: unknown) => Number.isInteger(l) && (l as number) >= 0 && (l as number) < legCount;
  if (!Array.isArray(legs) || legs.length !== 2 || !legs.every(okLeg) || legs[0] === legs[1]) {
    throw invalidArgument(`${field}.params.legs`, `must be two distinct leg indices in [0, ${legCount - 1}], got ${JSON.stringify(legs)}`);
  }
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) throw invalidArgument(`${field}.params.scale`, `must be a finite number >= 0, got ${JSON.stringify(scale)}`);
  return { legs: [legs[0], legs[1]], scale };
}

// ---- environments ----------------------------------------------------------------------

export const nonstationaryEnvConfig = z
  .object({
    ...leggedEnvFields(true),
    /** Environment steps per episode (time limit, discount 1). Default 500 (see README.md). */
    horizon: z.number().int().min(1).max(100_000).default(500),
  })
  .strict();
export type NonstationaryEnvConfig = z.infer<typeof nonstationaryEnvConfig>;

/**
 * Runs forward (+x) like ant-dir with direction +1; at each episode start the task's two legs
 * get `actuatorScale` = scale on both their motors (hip and ankle), the rest 1.
 */
class NonstationaryLegsWorld extends AntWorld {
  constructor(
    xml: string,
    config: LeggedWorldConfig,
    private readonly legCount: number,
  ) {
    super(xml, 'direction', config);
  }

  protected override beginEpisode(task: Task): void {
    const { legs, scale } = scaledLegsParam(task, this.legCount);
    this.direction = 1;
    for (const l of legs) this.actuatorScale.fill(scale, 2 * l, 2 * l + 2);
  }
}

export function nonstationaryEnv(anatomy: Anatomy, config: NonstationaryEnvConfig = nonstationaryEnvConfig.parse({})): MujocoEnvironment {
  const legs = LEGGED_ANATOMIES[anatomy];
  const name = `nonstationary-${anatomy}`;
  const xml = leggedXml({ legs, timestep: config.timestep });
  const spec = locomotionSpec(leggedObservationSize(legs.length), 2 * legs.length, config.horizon);
  const description = `${anatomy}; two legs' torques x task.scale; reward = v_x - costs + ${config.surviveReward}; ${config.horizon} steps of ${+(config.frameSkip * config.timestep).toFixed(6)} s`;
  const check = (task: Task, field: string) => void scaledLegsParam(task, legs.length, field);
  return new MujocoEnvironment(name, '1.0.0', description, name, spec, () => new NonstationaryLegsWorld(xml, config, legs.length), check);
}

// ---- plugins ---------------------------------------------------------------------------

const familyPlugin = (anatomy: Anatomy): PluginManifest<'task-family', NonstationaryFamilyConfig, TaskFamily> => ({
  kind: 'task-family',
  name: `nonstationary-${anatomy}`,
  version: '1.0.0',
  description: `Sequences of ${anatomy} dynamics: two legs' torques fade 1 -> 0 over 7 episodes (Al-Shedivat et al. 2018)`,
  configSchema: nonstationaryFamilyConfig,
  create: (c) => new NonstationaryLegsFamily(anatomy, c),
});

const envPlugin = (anatomy: Anatomy): PluginManifest<'environment', NonstationaryEnvConfig, SequentialEnvironment> => ({
  kind: 'environment',
  name: `nonstationary-${anatomy}`,
  version: '1.0.0',
  description: `MuJoCo ${anatomy} running forward with two legs' torques scaled by the task (needs \`await ensureMujoco()\` before createWorld)`,
  configSchema: nonstationaryEnvConfig,
  create: (c) => nonstationaryEnv(anatomy, c),
});

/** Family and environment plugins of nonstationary-ant, -bug and -spider. */
export const nonstationaryPlugins: readonly PluginManifest[] = ANATOMY_NAMES.flatMap((a) => [familyPlugin(a), envPlugin(a)]);
