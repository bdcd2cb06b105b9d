import { z } from 'zod';
import { Rng } from '@chameleon/core';
import type { PluginManifest } from '@chameleon/plugins';
import type { SplitName, Task, TaskFamily } from '@chameleon/tasks';
import type { SequentialEnvironment } from '../../rl/environment';
import { DirectionFamily, directionFamilyConfig, type DirectionFamilyConfig } from '../families';
import { directionParam, locomotionFields, locomotionSpec, MujocoEnvironment, MujocoWorld, numberParam, rangeField, squaredNorm } from '../locomotion';
import { HALF_CHEETAH_ACTUATORS, HALF_CHEETAH_SIZES, halfCheetahXml } from '../models/half-cheetah';

/** Observation: qpos without the root x (8), then qvel (9). See README.md. */
export const HALF_CHEETAH_OBSERVATION_SIZE = HALF_CHEETAH_SIZES.nq - 1 + HALF_CHEETAH_SIZES.nv;

// ---- task families ---------------------------------------------------------------------

export const halfCheetahVelFamilyConfig = z
  .object({
    /** Target forward velocity range, m/s. Default [0, 2] (MAML). */
    velocityRange: rangeField(0, 2),
  })
  .strict();
export type HalfCheetahVelFamilyConfig = z.infer<typeof halfCheetahVelFamilyConfig>;

/** Target velocities U[0, 2] m/s (Finn et al. 2017, section 5.3). Params: `{ velocity }`. */
export class HalfCheetahVelFamily implements TaskFamily {
  readonly name = 'halfcheetah-vel';
  readonly version = '1.0.0';
  readonly description = 'Half cheetah target velocities U[0, 2] m/s (MAML)';
  readonly splits: readonly SplitName[] = ['train', 'validation', 'test'];

  constructor(readonly config: HalfCheetahVelFamilyConfig = halfCheetahVelFamilyConfig.parse({})) {}

  draw(split: SplitName, seed: number, index: number): Record<string, unknown> {
    const [lo, hi] = this.config.velocityRange;
    return { velocity: Rng.fromKeys(this.name, split, seed, index).uniform(lo, hi) };
  }
}

export const halfCheetahDirFamily = (config: DirectionFamilyConfig = directionFamilyConfig.parse({})) =>
  new DirectionFamily('halfcheetah-dir', 'Half cheetah runs forward (+1) or backward (-1), 50/50 (MAML)', config);

// ---- environments ----------------------------------------------------------------------

export const halfCheetahEnvConfig = z
  .object({
    ...locomotionFields(0.05),
    /** Per-actuator gear multipliers (model-level torque hook), actuator order of models/README.md. Default all 1. */
    gearScale: z.array(z.number().min(0)).length(HALF_CHEETAH_ACTUATORS.length).optional(),
  })
  .strict();
export type HalfCheetahEnvConfig = z.infer<typeof halfCheetahEnvConfig>;

type Objective = 'velocity' | 'direction';

/**
 * The half cheetah playing one objective. Forward velocity v = qvel[0], the root's x velocity
 * at the end of the step (equal to obs[8]).
 *   velocity:  r = -|v - task.velocity| - ctrlCostCoeff |a|^2
 *   direction: r = task.direction * v  - ctrlCostCoeff |a|^2
 * Never terminates (MAML); episodes end at the horizon.
 */
class HalfCheetahWorld extends MujocoWorld {
  private target = 0;

  constructor(
    xml: string,
    private readonly objective: Objective,
    private readonly config: HalfCheetahEnvConfig,
  ) {
    super(xml, config);
  }

  protected beginEpisode(task: Task): void {
    this.target = this.objective === 'velocity' ? numberParam(task, 'velocity') : directionParam(task);
  }

  protected observe(obs: Float32Array): void {
    const { qpos, qvel } = this.sim.views();
    for (let i = 1; i < qpos.length; i++) obs[i - 1] = qpos[i];
    const o = qpos.length - 1;
    for (let i = 0; i < qvel.length; i++) obs[o + i] = qvel[i];
  }

  protected evaluate(action: Float64Array) {
    const v = this.sim.views().qvel[0];
    const forward = this.objective === 'velocity' ? -Math.abs(v - this.target) : this.target * v;
    return { reward: forward - this.config.ctrlCostCoeff * squaredNorm(action), terminated: false };
  }
}

function halfCheetahEnv(name: string, objective: Objective, description: string, config: HalfCheetahEnvConfig): MujocoEnvironment {
  const xml = halfCheetahXml({ timestep: config.timestep, gearScale: config.gearScale });
  const spec = locomotionSpec(HALF_CHEETAH_OBSERVATION_SIZE, HALF_CHEETAH_ACTUATORS.length, config.horizon);
  const check = (task: Task, field: string) => void (objective === 'velocity' ? numberParam(task, 'velocity', field) : directionParam(task, field));
  return new MujocoEnvironment(name, '1.0.0', description, name, spec, () => new HalfCheetahWorld(xml, objective, config), check);
}

const episode = (c: HalfCheetahEnvConfig) => `${c.horizon} steps of ${+(c.frameSkip * c.timestep).toFixed(6)} s`;

export const halfCheetahVelEnv = (config: HalfCheetahEnvConfig = halfCheetahEnvConfig.parse({})) =>
  halfCheetahEnv('halfcheetah-vel', 'velocity', `Half cheetah; reward = -|v - velocity| - ${config.ctrlCostCoeff} |a|^2; ${episode(config)}`, config);

export const halfCheetahDirEnv = (config: HalfCheetahEnvConfig = halfCheetahEnvConfig.parse({})) =>
  halfCheetahEnv('halfcheetah-dir', 'direction', `Half cheetah; reward = direction * v - ${config.ctrlCostCoeff} |a|^2; ${episode(config)}`, config);

// ---- plugins ---------------------------------------------------------------------------

export const halfCheetahVelFamilyPlugin: PluginManifest<'task-family', HalfCheetahVelFamilyConfig, TaskFamily> = {
  kind: 'task-family',
  name: 'halfcheetah-vel',
  version: '1.0.0',
  description: 'Half cheetah target velocities U[0, 2] m/s (MAML)',
  configSchema: halfCheetahVelFamilyConfig,
  create: (c) => new HalfCheetahVelFamily(c),
};

export const halfCheetahDirFamilyPlugin: PluginManifest<'task-family', DirectionFamilyConfig, TaskFamily> = {
  kind: 'task-family',
  name: 'halfcheetah-dir',
  version: '1.0.0',
  description: 'Half cheetah directions +1/-1 drawn 50/50 (MAML)',
  configSchema: directionFamilyConfig,
  create: (c) => halfCheetahDirFamily(c),
};

export const halfCheetahVelEnvPlugin: PluginManifest<'environment', HalfCheetahEnvConfig, SequentialEnvironment> = {
  kind: 'environment',
  name: 'halfcheetah-vel',
  version: '1.0.0',
  description: 'MuJoCo half cheetah tracking a target velocity (needs `await ensureMujoco()` before createWorld)',
  configSchema: halfCheetahEnvConfig,
  create: (c) => halfCheetahVelEnv(c),
};

export const halfCheetahDirEnvPlugin: PluginManifest<'environment', HalfCheetahEnvConfig, SequentialEnvironment> = {
  kind: 'environment',
  name: 'halfcheetah-dir',
  version: '1.0.0',
  description: 'MuJoCo half cheetah running forward or backward (needs `await ensureMujoco()` before createWorld)',
  configSchema: halfCheetahEnvConfig,
  create: (c) => halfCheetahDirEnv(c),
};
