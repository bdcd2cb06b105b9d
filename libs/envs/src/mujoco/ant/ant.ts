import { z } from 'zod';
import { invalidArgument, Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { SplitName, Task, TaskFamily } from '@chameleon/tasks';
import type { SequentialEnvironment } from '../../rl/environment';
import { DirectionFamily, directionFamilyConfig, type DirectionFamilyConfig } from '../families';
import { directionParam, locomotionFields, locomotionSpec, MujocoEnvironment, MujocoWorld, rangeField, squaredNorm } from '../locomotion';
import { ANT_SIZES, leggedXml } from '../models/legged';

/** Observation: qpos (15), qvel (14), clipped cfrc_ext of the 9 non-world bodies (54). See README.md. */
export const ANT_OBSERVATION_SIZE = ANT_SIZES.nq + ANT_SIZES.nv + 6 * (ANT_SIZES.nbody - 1);

// ---- task families ---------------------------------------------------------------------

export const antDirFamily = (config: DirectionFamilyConfig = directionFamilyConfig.parse({})) =>
  new DirectionFamily('ant-dir', 'Ant runs forward (+1) or backward (-1) along x, 50/50 (MAML)', config);

export const antGoalFamilyConfig = z
  .object({
    /** Where goals are drawn: the square [-extent, extent]^2 (MAML) or the disc of radius extent (ProMP). Default 'square'. */
    region: z.enum(['square', 'disc']).default('square'),
    /** Half side of the square or radius of the disc, metres. Default 3. */
    extent: z.number().positive().default(3),
  })
  .strict();
export type AntGoalFamilyConfig = z.infer<typeof antGoalFamilyConfig>;

/** Goal positions for the ant's torso, uniform in a square or disc. Params: `{ goal: [x, y] }`. */
export class AntGoalFamily implements TaskFamily {
  readonly name = 'ant-goal';
  readonly version = '1.0.0';
  readonly description = 'Ant goal positions uniform in [-3, 3]^2 (MAML) or a disc';
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];

  constructor(readonly config: AntGoalFamilyConfig = antGoalFamilyConfig.parse({})) {}

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const rng = Rng.fromKeys(this.name, split, seed, index);
    const e = this.config.extent;
    if (this.config.region === 'square') return { goal: [rng.uniform(-e, e), rng.uniform(-e, e)] };
    // sqrt makes the density uniform over the disc's area rather than over the radius.
    const r = e * Math.sqrt(rng.next());
    const a = rng.uniform(0, 2 * Math.PI);
    return { goal: [r * Math.cos(a), r * Math.sin(a)] };
  }
}

function goalParam(task: Task, field = 'task'): [number, number] {
  const g = task.params.goal;
  if (!Array.isArray(g) || g.length !== 2 || !g.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw invalidArgument(`${field}.params.goal`, `must be two finite numbers, got ${JSON.stringify(g)}`);
  }
  return [g[0], g[1]];
}

// ---- environments ----------------------------------------------------------------------

/** Config fields of every ant-like legged environment (ant-dir/goal, nonstationary-*), without gear scales. */
export const leggedEnvFields = (terminateWhenUnhealthy: boolean) => ({
  ...locomotionFields(0.005),
  /** Weight of the contact cost sum(clip(cfrc_ext, -clip, clip)^2). Default 0.0005 (rllab: 0.5 * 1e-3). */
  contactCostCoeff: z.number().min(0).default(0.0005),
  /** Contact wrenches are clipped to [-clip, clip] in the observation and the contact cost. Default 1. */
  contactForceClip: z.number().positive().default(1),
  /** Reward added every step (rllab: 0.05). Default 0.05. */
  surviveReward: z.number().default(0.05),
  /** Torso-centre heights (m) considered healthy. Default [0.2, 1.0] (rllab). */
  healthyZRange: rangeField(0.2, 1.0),
  /** End the episode (discount 0) when the torso leaves healthyZRange. Default per environment. */
  terminateWhenUnhealthy: z.boolean().default(terminateWhenUnhealthy),
});

const antEnvShape = (terminateWhenUnhealthy: boolean) => ({
  ...leggedEnvFields(terminateWhenUnhealthy),
  /** Per-actuator gear multipliers (model-level torque hook), [hip, ankle] per leg. Default all 1. */
  gearScale: z.array(z.number().min(0)).length(ANT_SIZES.nu).optional(),
});

/** ant-dir: terminates when unhealthy (as rllab/MAML/ProMP). */
export const antDirEnvConfig = z.object(antEnvShape(true)).strict();
/** ant-goal: never terminates by default (ProMP): ending early would pay while distances are negative. */
export const antGoalEnvConfig = z.object(antEnvShape(false)).strict();
export type AntEnvConfig = z.infer<typeof antDirEnvConfig>;
/** What an {@link AntWorld} reads of its config (any legged environment's config has these). */
export type LeggedWorldConfig = Pick<
  AntEnvConfig,
  'frameSkip' | 'qposNoise' | 'qvelNoise' | 'ctrlCostCoeff' | 'contactCostCoeff' | 'contactForceClip' | 'surviveReward' | 'healthyZRange' | 'terminateWhenUnhealthy'
>;

export type Objective = 'direction' | 'goal';

/**
 * The ant playing one objective; (x, y, z) = qpos[0..2] is the torso centre, which is also the
 * torso's centre of mass (a sphere), and v = qvel[0] its x velocity. With
 * costs = ctrlCostCoeff |a|^2 + contactCostCoeff sum(clip(cfrc_ext)^2):
 *   direction: r = task.direction * v          - costs + surviveReward
 *   goal:      r = -(|x - gx| + |y - gy|)      - costs + surviveReward
 * Works for any radial-legged body (the nonstationary bug and spider reuse it).
 */
export class AntWorld extends MujocoWorld {
  protected direction = 1;
  private goal: [number, number] = [0, 0];
  private contactCost = 0;

  constructor(
    xml: string,
    private readonly objective: Objective,
    private readonly config: LeggedWorldConfig,
  ) {
    super(xml, config);
  }

  protected beginEpisode(task: Task): void {
    if (this.objective === 'direction') this.direction = directionParam(task);
    else this.goal = goalParam(task);
  }

  protected override afterPhysics(): void {
    this.sim.computeContactForces();
  }

  protected observe(obs: Float32Array): void {
    const { qpos, qvel, cfrcExt } = this.sim.views();
    let o = 0;
    for (let i = 0; i < qpos.length; i++) obs[o++] = qpos[i];
    for (let i = 0; i < qvel.length; i++) obs[o++] = qvel[i];
    const c = this.config.contactForceClip;
    let cost = 0;
    // Body 0 is the world: its wrench is always zero, so it is left out of the observation.
    for (let i = 6; i < cfrcExt.length; i++) {
      const f = cfrcExt[i] < -c ? -c : cfrcExt[i] > c ? c : cfrcExt[i];
      obs[o++] = f;
      cost += f * f;
    }
    this.contactCost = cost;
  }

  protected evaluate(action: Float64Array) {
    const { qpos, qvel } = this.sim.views();
    const cfg = this.config;
    const progress = this.objective === 'direction' ? this.direction * qvel[0] : -(Math.abs(qpos[0] - this.goal[0]) + Math.abs(qpos[1] - this.goal[1]));
    const reward = progress - cfg.ctrlCostCoeff * squaredNorm(action) - cfg.contactCostCoeff * this.contactCost + cfg.surviveReward;
    const z = qpos[2];
    const healthy = z >= cfg.healthyZRange[0] && z <= cfg.healthyZRange[1] && Number.isFinite(reward);
    return { reward, terminated: cfg.terminateWhenUnhealthy && !healthy };
  }
}

function antEnv(name: string, objective: Objective, description: string, config: AntEnvConfig): MujocoEnvironment {
  const xml = leggedXml({ timestep: config.timestep, gearScale: config.gearScale });
  const spec = locomotionSpec(ANT_OBSERVATION_SIZE, ANT_SIZES.nu, config.horizon);
  const check = (task: Task, field: string) => void (objective === 'direction' ? directionParam(task, field) : goalParam(task, field));
  return new MujocoEnvironment(name, '1.0.0', description, name, spec, () => new AntWorld(xml, objective, config), check);
}

const ending = (c: AntEnvConfig) =>
  `${c.horizon} steps of ${+(c.frameSkip * c.timestep).toFixed(6)} s${c.terminateWhenUnhealthy ? `, ends when the torso leaves [${c.healthyZRange.join(', ')}] m` : ''}`;

export const antDirEnv = (config: AntEnvConfig = antDirEnvConfig.parse({})) =>
  antEnv('ant-dir', 'direction', `Ant; reward = direction * v_x - costs + ${config.surviveReward}; ${ending(config)}`, config);

export const antGoalEnv = (config: AntEnvConfig = antGoalEnvConfig.parse({})) =>
  antEnv('ant-goal', 'goal', `Ant; reward = -|xy - goal|_1 - costs + ${config.surviveReward}; ${ending(config)}`, config);

// ---- plugins ---------------------------------------------------------------------------

export const antDirFamilyPlugin: PluginManifest<'task-family', DirectionFamilyConfig, TaskFamily> = {
  kind: 'task-family',
  name: 'ant-dir',
  version: '1.0.0',
  description: 'Ant directions +1/-1 along x drawn 50/50 (MAML)',
  configSchema: directionFamilyConfig,
  create: (c) => antDirFamily(c),
};

export const antGoalFamilyPlugin: PluginManifest<'task-family', AntGoalFamilyConfig, TaskFamily> = {
  kind: 'task-family',
  name: 'ant-goal',
  version: '1.0.0',
  description: 'Ant goal positions uniform in [-3, 3]^2 (MAML) or a disc of radius 3 (ProMP)',
  configSchema: antGoalFamilyConfig,
  create: (c) => new AntGoalFamily(c),
};

export const antDirEnvPlugin: PluginManifest<'environment', AntEnvConfig, SequentialEnvironment> = {
  kind: 'environment',
  name: 'ant-dir',
  version: '1.0.0',
  description: 'MuJoCo ant running forward or backward along x (needs `await ensureMujoco()` before createWorld)',
  configSchema: antDirEnvConfig,
  create: (c) => antDirEnv(c),
};

export const antGoalEnvPlugin: PluginManifest<'environment', AntEnvConfig, SequentialEnvironment> = {
  kind: 'environment',
  name: 'ant-goal',
  version: '1.0.0',
  description: 'MuJoCo ant walking to a goal position (needs `await ensureMujoco()` before createWorld)',
  configSchema: antGoalEnvConfig,
  create: (c) => antGoalEnv(c),
};
