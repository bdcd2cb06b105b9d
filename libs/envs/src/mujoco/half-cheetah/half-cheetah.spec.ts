import { Rng } from '@chameleon/core';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { describeEnvironmentContract } from '../../rl/contract';
import { VectorEnv } from '../../rl/vector-env';
import { localWorlds } from '../../rl/worlds';
import type { MujocoWorld } from '../locomotion';
import { HALF_CHEETAH_XML } from '../models/half-cheetah';
import { ensureMujoco } from '../runtime';
import { MjSim } from '../sim';
import { contractTasks, randomActions, rollout, taskWith } from '../testing';
import {
  HALF_CHEETAH_OBSERVATION_SIZE,
  HalfCheetahVelFamily,
  halfCheetahDirEnv,
  halfCheetahDirFamily,
  halfCheetahEnvConfig,
  halfCheetahVelEnv,
  halfCheetahVelEnvPlugin,
} from './half-cheetah';

const velFamily = new HalfCheetahVelFamily();
const dirFamily = halfCheetahDirFamily();
const sinusoid = sampleTasks(new SinusoidFamily(), { split: 'train', seed: 1, start: 0, count: 1 })[0];
const velTasks = (n: number) => sampleTasks(velFamily, { split: 'train', seed: 1, start: 0, count: n });
const dirTasks = contractTasks(dirFamily, (t) => String(t.params.direction));

describeEnvironmentContract('halfcheetah-vel (in process)', async () => (await ensureMujoco(), localWorlds(halfCheetahVelEnv())), velTasks, sinusoid);
describeEnvironmentContract('halfcheetah-dir (in process)', async () => (await ensureMujoco(), localWorlds(halfCheetahDirEnv())), dirTasks, sinusoid);

describe('half cheetah task families', () => {
  it('draws target velocities in [0, 2], deterministically', () => {
    const a = velTasks(300).map((t) => t.params.velocity as number);
    expect(a.every((v) => v >= 0 && v <= 2)).toBe(true);
    expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(1.8);
    expect(velTasks(300).map((t) => t.params.velocity)).toEqual(a);
  });

  it('draws directions +1 / -1 about half and half, deterministically', () => {
    const d = sampleTasks(dirFamily, { split: 'train', seed: 3, start: 0, count: 400 }).map((t) => t.params.direction);
    expect(new Set(d)).toEqual(new Set([1, -1]));
    expect(d.filter((x) => x === 1).length).toBeGreaterThan(160);
    expect(d.filter((x) => x === 1).length).toBeLessThan(240);
    expect(sampleTasks(dirFamily, { split: 'train', seed: 3, start: 0, count: 400 }).map((t) => t.params.direction)).toEqual(d);
  });
});

describe('half cheetah physics and rewards', () => {
  beforeAll(() => ensureMujoco());
  const zero = () => new Float32Array(6);

  it('has the documented spec: 17 observations, 6 actions in [-1, 1], 200 steps', () => {
    const env = halfCheetahVelEnv();
    expect(env.spec).toEqual({ observationShape: [17], actionShape: [6], actionMinimum: Array(6).fill(-1), actionMaximum: Array(6).fill(1), maxEpisodeSteps: 200 });
    expect(HALF_CHEETAH_OBSERVATION_SIZE).toBe(17);
  });

  it('stays roughly in place and upright with zero action', () => {
    const steps = rollout(halfCheetahVelEnv(), velTasks(1)[0], 200, zero);
    const last = steps[steps.length - 1].observations;
    // obs = [rootz, rooty, 6 joint angles, 9 velocities]; x is not observed, so integrate vx.
    const x = steps.reduce((s, ts) => s + ts.observations[8] * 0.05, 0);
    expect(Math.abs(x)).toBeLessThan(0.1);
    expect(Math.abs(last[0])).toBeLessThan(0.2);
    expect(Math.abs(last[1])).toBeLessThan(0.2);
    expect(Math.max(...Array.from(last.subarray(8)).map(Math.abs))).toBeLessThan(0.1);
  });

  it('moves forward under a constant forward push on the torso, backward under a backward one', async () => {
    for (const push of [60, -60]) {
      const sim = new MjSim(HALF_CHEETAH_XML);
      sim.reset(new Rng(1), 0, 0);
      sim.views().xfrcApplied[6] = push; // body 1 (torso), force x
      sim.step(200);
      expect(Math.sign(sim.views().qpos[0])).toBe(Math.sign(push));
      expect(Math.abs(sim.views().qpos[0])).toBeGreaterThan(0.5);
      sim.close();
    }
  });

  it('stays finite and bounded over 1,000 random steps', () => {
    const rng = Rng.fromKeys('cheetah-random');
    const steps = rollout(halfCheetahVelEnv(halfCheetahEnvConfig.parse({ horizon: 1000 })), velTasks(1)[0], 1000, () => randomActions(rng, 6));
    expect(steps).toHaveLength(1001);
    for (const ts of steps) {
      expect(ts.observations.every(Number.isFinite)).toBe(true);
      expect(Math.max(...Array.from(ts.observations.subarray(8)).map(Math.abs))).toBeLessThan(100);
    }
  });

  it('pays -|v - target| - 0.05 |a|^2 (vel) and direction * v - 0.05 |a|^2 (dir), v = obs[8]', () => {
    const rng = Rng.fromKeys('cheetah-reward');
    const acts = Array.from({ length: 40 }, () => randomActions(rng, 6).map((a) => a * 1.5));
    const clipped2 = (a: Float32Array) => a.reduce((s, x) => s + Math.min(1, Math.max(-1, x)) ** 2, 0);
    const vel = rollout(halfCheetahVelEnv(), taskWith(velFamily, { velocity: 1.3 }), 40, (t) => acts[t]);
    vel.slice(1).forEach((ts, t) => expect(ts.rewards[0]).toBeCloseTo(-Math.abs(ts.observations[8] - 1.3) - 0.05 * clipped2(acts[t]), 4));
    const dir = rollout(halfCheetahDirEnv(), taskWith(dirFamily, { direction: -1 }), 40, (t) => acts[t]);
    dir.slice(1).forEach((ts, t) => expect(ts.rewards[0]).toBeCloseTo(-ts.observations[8] - 0.05 * clipped2(acts[t]), 4));
  });

  it('scales torques per actuator: scale 0 moves like zero action but still pays the control cost', () => {
    const env = halfCheetahVelEnv();
    const task = velTasks(1)[0];
    const [a, b] = [env.createWorld() as MujocoWorld, env.createWorld()];
    const [oa, ob] = [new Float32Array(17), new Float32Array(17)];
    a.reset(task, new Rng(4), oa);
    b.reset(task, new Rng(4), ob);
    a.actuatorScale.fill(0);
    const push = new Float32Array(6).fill(1);
    const ra = a.step(push, oa);
    const rb = b.step(zero(), ob);
    expect(Array.from(oa)).toEqual(Array.from(ob));
    expect(ra.reward).toBeCloseTo(rb.reward - 0.05 * 6, 6);
    a.close?.();
    b.close?.();
  });

  it('refuses bad task params and configs, naming the field', () => {
    const [v, d] = [halfCheetahVelEnv().createWorld(), halfCheetahDirEnv().createWorld()];
    expect(() => v.reset(taskWith(velFamily, { velocity: 'fast' }), new Rng(1), new Float32Array(17))).toThrow(/task\.params\.velocity/);
    expect(() => d.reset(taskWith(dirFamily, { direction: 0 }), new Rng(1), new Float32Array(17))).toThrow(/task\.params\.direction/);
    v.close?.();
    d.close?.();
    // Checked up front, before any world runs, with the request's field path.
    expect(() => new VectorEnv(halfCheetahVelEnv(), 2, [velTasks(1)[0], taskWith(velFamily, {})], 0)).toThrow(/tasks\[1\]\.params\.velocity/);
    expect(halfCheetahVelEnvPlugin.configSchema.safeParse({ frameSkip: 0 }).success).toBe(false);
    expect(halfCheetahVelEnvPlugin.configSchema.safeParse({ gearScale: [1, 1] }).success).toBe(false);
  });
});
