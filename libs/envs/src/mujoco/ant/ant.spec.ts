import { Rng } from '@chameleon/core';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { describeEnvironmentContract } from '../../rl/contract';
import { StepType } from '../../rl/environment';
import { localWorlds } from '../../rl/worlds';
import { ANT_XML } from '../models/legged';
import { ensureMujoco } from '../runtime';
import { MjSim } from '../sim';
import { contractTasks, randomActions, rollout, taskWith } from '../testing';
import { ANT_OBSERVATION_SIZE, AntGoalFamily, antDirEnv, antDirEnvConfig, antDirFamily, antGoalEnv, antGoalEnvConfig, antGoalFamilyConfig } from './ant';

const dirFamily = antDirFamily();
const goalFamily = new AntGoalFamily();
const sinusoid = sampleTasks(new SinusoidFamily(), { split: 'train', seed: 1, start: 0, count: 1 })[0];
const dirTasks = contractTasks(dirFamily, (t) => String(t.params.direction));
const goalTasks = (n: number) => sampleTasks(goalFamily, { split: 'train', seed: 1, start: 0, count: n });

describeEnvironmentContract('ant-dir (in process)', async () => (await ensureMujoco(), localWorlds(antDirEnv())), dirTasks, sinusoid);
describeEnvironmentContract('ant-goal (in process)', async () => (await ensureMujoco(), localWorlds(antGoalEnv())), goalTasks, sinusoid);

describe('ant task families', () => {
  it('draws directions +1 / -1 and goals in [-3, 3]^2, deterministically', () => {
    const d = sampleTasks(dirFamily, { split: 'test', seed: 2, start: 0, count: 200 }).map((t) => t.params.direction);
    expect(new Set(d)).toEqual(new Set([1, -1]));
    const g = goalTasks(300).map((t) => t.params.goal as number[]);
    expect(g.every(([x, y]) => Math.abs(x) <= 3 && Math.abs(y) <= 3)).toBe(true);
    expect(g.some(([x, y]) => Math.hypot(x, y) > 3)).toBe(true); // corners of the square
    expect(goalTasks(300).map((t) => t.params.goal)).toEqual(g);
  });

  it('draws goals uniformly over the disc when asked', () => {
    const disc = new AntGoalFamily(antGoalFamilyConfig.parse({ region: 'disc', extent: 2 }));
    const r = sampleTasks(disc, { split: 'train', seed: 1, start: 0, count: 2000 }).map((t) => Math.hypot(...(t.params.goal as [number, number])));
    expect(Math.max(...r)).toBeLessThanOrEqual(2);
    // Uniform over the area: P(r < 1) = 1/4.
    expect(r.filter((x) => x < 1).length / r.length).toBeCloseTo(0.25, 1);
  });
});

describe('ant physics and rewards', () => {
  beforeAll(() => ensureMujoco());
  const zero = () => new Float32Array(8);

  it('has the documented spec: 83 observations, 8 actions in [-1, 1], 200 steps', () => {
    expect(ANT_OBSERVATION_SIZE).toBe(83);
    expect(antGoalEnv().spec).toMatchObject({ observationShape: [83], actionShape: [8], maxEpisodeSteps: 200 });
  });

  it('falls from its start height to rest upright on its legs without exploding', () => {
    const sim = new MjSim(ANT_XML);
    sim.reset(new Rng(2), 0.01, 0.1);
    // It lands within 0.4 s, then sinks slowly (unsprung joints yield through their damping)
    // until the ankles reach their limits; 20 s is enough to be at rest.
    sim.step(2000);
    const { qpos, qvel } = sim.views();
    expect(qpos[2]).toBeGreaterThan(0.3);
    expect(qpos[2]).toBeLessThan(0.36);
    expect(qpos[3]).toBeGreaterThan(0.99); // quaternion w: upright
    expect(Math.hypot(qpos[0], qpos[1])).toBeLessThan(0.2);
    expect(Math.max(...Array.from(qvel).map(Math.abs))).toBeLessThan(0.01);
    sim.close();
  });

  it('stays finite and bounded over 1,000 random steps', () => {
    const rng = Rng.fromKeys('ant-random');
    const env = antGoalEnv(antGoalEnvConfig.parse({ horizon: 1000 }));
    const steps = rollout(env, goalTasks(1)[0], 1000, () => randomActions(rng, 8));
    expect(steps).toHaveLength(1001);
    for (const ts of steps) {
      expect(ts.observations.every(Number.isFinite)).toBe(true);
      expect(Math.max(...Array.from(ts.observations.subarray(15, 29)).map(Math.abs))).toBeLessThan(100);
      expect(Math.abs(ts.observations[2])).toBeLessThan(2);
    }
  });

  // obs = qpos (0..14) | qvel (15..28) | clipped cfrc_ext (29..82)
  const costs = (o: Float32Array, a: Float32Array) =>
    0.005 * a.reduce((s, x) => s + Math.min(1, Math.max(-1, x)) ** 2, 0) + 0.0005 * o.subarray(29).reduce((s, f) => s + f * f, 0);

  it('pays direction * v_x - costs + 0.05 (dir) and -|xy - goal|_1 - costs + 0.05 (goal)', () => {
    const rng = Rng.fromKeys('ant-reward');
    const acts = Array.from({ length: 60 }, () => randomActions(rng, 8).map((a) => a * 1.5));
    const dir = rollout(antDirEnv(), taskWith(dirFamily, { direction: -1 }), 60, (t) => acts[t]);
    dir.slice(1).forEach((ts, t) => expect(ts.rewards[0]).toBeCloseTo(-ts.observations[15] - costs(ts.observations, acts[t]) + 0.05, 4));
    const goal = rollout(antGoalEnv(), taskWith(goalFamily, { goal: [1.5, -2] }), 60, (t) => acts[t]);
    goal.slice(1).forEach((ts, t) => {
      const o = ts.observations;
      expect(ts.rewards[0]).toBeCloseTo(-(Math.abs(o[0] - 1.5) + Math.abs(o[1] + 2)) - costs(o, acts[t]) + 0.05, 4);
    });
    // Contacts are observed: at rest the feet touch the floor.
    expect(goal.some((ts) => ts.observations.subarray(29).some((f) => f !== 0))).toBe(true);
  });

  it('ends ant-dir (discount 0) when the torso leaves the healthy range; ant-goal runs to the horizon', () => {
    const strict = antDirEnv(antDirEnvConfig.parse({ healthyZRange: [0.5, 1] }));
    const steps = rollout(strict, dirTasks(1)[0], 200, zero);
    const last = steps[steps.length - 1];
    expect(steps.length).toBeLessThan(40);
    expect([last.stepTypes[0], last.discounts[0]]).toEqual([StepType.LAST, 0]);
    const lenient = antGoalEnv(antGoalEnvConfig.parse({ healthyZRange: [0.5, 1] }));
    const all = rollout(lenient, goalTasks(1)[0], 200, zero);
    expect(all).toHaveLength(201);
    expect(all[200].discounts[0]).toBe(1);
  });

  it('refuses bad goals and directions, naming the field', () => {
    const w = antGoalEnv().createWorld();
    expect(() => w.reset(taskWith(goalFamily, { goal: [1] }), new Rng(1), new Float32Array(83))).toThrow(/task\.params\.goal/);
    w.close?.();
    expect(() => antGoalEnv().validateTask?.(taskWith(goalFamily, { goal: [0, NaN] }), 'tasks[3]')).toThrow(/tasks\[3\]\.params\.goal/);
    expect(() => antDirEnv().validateTask?.(taskWith(dirFamily, { direction: 2 }), 'tasks[0]')).toThrow(/tasks\[0\]\.params\.direction/);
  });
});
