import { Rng } from '@chameleon/core';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { describeEnvironmentContract } from '../../rl/contract';
import { localWorlds } from '../../rl/worlds';
import { ensureMujoco } from '../runtime';
import { randomActions, rollout, taskWith } from '../testing';
import { legPairs, leggedObservationSize, NonstationaryLegsFamily, nonstationaryEnv, nonstationaryEnvConfig, nonstationaryFamilyConfig } from './nonstationary';
import { ANT_LEGS, HEXAPOD_LEGS, SPIDER_LEGS } from '../models/legged';

const antFamily = new NonstationaryLegsFamily('ant');
const bugFamily = new NonstationaryLegsFamily('bug');
const sinusoid = sampleTasks(new SinusoidFamily(), { split: 'train', seed: 1, start: 0, count: 1 })[0];
// The first tasks of a stream are T_1, T_2, ... of sequence 0: same legs, scales 1, 5/6, ...
const antTasks = (n: number) => sampleTasks(antFamily, { split: 'train', seed: 1, start: 0, count: n });
const bugTasks = (n: number) => sampleTasks(bugFamily, { split: 'train', seed: 1, start: 0, count: n });

describeEnvironmentContract('nonstationary-ant (in process)', async () => (await ensureMujoco(), localWorlds(nonstationaryEnv('ant'))), antTasks, sinusoid);
describeEnvironmentContract('nonstationary-bug (in process)', async () => (await ensureMujoco(), localWorlds(nonstationaryEnv('bug'))), bugTasks, sinusoid);

describe('nonstationary task families', () => {
  it('serves sequences of 7 episodes: one pair of legs per sequence, scale 1 -> 0 linearly', () => {
    const tasks = sampleTasks(antFamily, { split: 'train', seed: 4, start: 0, count: 21 });
    for (let k = 0; k < 3; k++) {
      const seq = tasks.slice(7 * k, 7 * k + 7);
      expect(seq.map((t) => [t.params.sequence, t.params.position, t.params.length])).toEqual(Array.from({ length: 7 }, (_, i) => [k, i, 7]));
      expect(new Set(seq.map((t) => JSON.stringify(t.params.legs))).size).toBe(1);
      seq.forEach((t, i) => expect(t.params.scale).toBeCloseTo(1 - i / 6, 12));
    }
    expect(sampleTasks(antFamily, { split: 'train', seed: 4, start: 0, count: 21 })).toEqual(tasks);
  });

  it('draws every pair of legs (any: n choose 2) or only neighbours around the torso (adjacent)', () => {
    const seen = (f: NonstationaryLegsFamily) =>
      new Set(sampleTasks(f, { split: 'test', seed: 1, start: 0, count: 7 * 100 }).map((t) => JSON.stringify(t.params.legs)));
    expect(seen(antFamily).size).toBe(6);
    expect(seen(bugFamily).size).toBe(15);
    // Ant legs by angle: front_left 45, back_left 135, back_right 225, front_right 315 degrees.
    expect(legPairs(ANT_LEGS, 'adjacent')).toEqual([
      [0, 2],
      [2, 3],
      [1, 3],
      [0, 1],
    ]);
    expect(legPairs(HEXAPOD_LEGS, 'adjacent')).toHaveLength(6);
    expect(legPairs(SPIDER_LEGS, 'any')).toHaveLength(28);
    const adjacent = new NonstationaryLegsFamily('ant', nonstationaryFamilyConfig.parse({ pairs: 'adjacent', sequenceLength: 3, scaleTo: 0.5 }));
    expect([...seen(adjacent)].sort()).toEqual(['[0,1]', '[0,2]', '[1,3]', '[2,3]']);
    expect(sampleTasks(adjacent, { split: 'train', seed: 1, start: 0, count: 3 }).map((t) => t.params.scale)).toEqual([1, 0.75, 0.5]);
  });
});

describe('nonstationary locomotion worlds', () => {
  beforeAll(() => ensureMujoco());

  it('has the documented specs: ant 83/8, bug 115/12, spider 147/16; 500 steps', () => {
    expect([4, 6, 8].map(leggedObservationSize)).toEqual([83, 115, 147]);
    expect(nonstationaryEnv('bug').spec).toMatchObject({ observationShape: [115], actionShape: [12], maxEpisodeSteps: 500 });
    expect(nonstationaryEnv('spider').spec).toMatchObject({ observationShape: [147], actionShape: [16] });
  });

  it('scales both motors of the two legs by the task: at scale 0 their actions have no effect', () => {
    const env = nonstationaryEnv('bug');
    const paralysed = taskWith(bugFamily, { legs: [1, 4], scale: 0 });
    const rng = Rng.fromKeys('ns-zero');
    const acts = Array.from({ length: 40 }, () => randomActions(rng, 12));
    const muted = acts.map((a) => a.map((x, j) => (Math.floor(j / 2) === 1 || Math.floor(j / 2) === 4 ? -x : x)));
    const a = rollout(env, paralysed, 40, (t) => acts[t]);
    const b = rollout(env, paralysed, 40, (t) => muted[t]);
    expect(b.map((s) => Array.from(s.observations))).toEqual(a.map((s) => Array.from(s.observations)));
    const intact = rollout(env, taskWith(bugFamily, { legs: [1, 4], scale: 1 }), 40, (t) => muted[t]);
    expect(intact[40].observations).not.toEqual(a[40].observations);
  });

  it('at scale s drives the legs exactly as scale 1 with those legs actions multiplied by s', () => {
    // s = 0.5 is exact in binary, so both paths compute bit-identical motor commands.
    const env = nonstationaryEnv('ant');
    const rng = Rng.fromKeys('ns-half');
    const acts = Array.from({ length: 40 }, () => randomActions(rng, 8));
    const scaled = acts.map((a) => a.map((x, j) => (j >= 4 && j < 8 ? 0.5 * x : x)));
    const a = rollout(env, taskWith(antFamily, { legs: [2, 3], scale: 0.5 }), 40, (t) => acts[t]);
    const b = rollout(env, taskWith(antFamily, { legs: [2, 3], scale: 1 }), 40, (t) => scaled[t]);
    expect(b.map((s) => Array.from(s.observations))).toEqual(a.map((s) => Array.from(s.observations)));
  });

  it('pays v_x - 0.005 |a|^2 - 0.0005 sum clip(cfrc_ext)^2 + 0.05 (a = the agent action, before scaling)', () => {
    const rng = Rng.fromKeys('ns-reward');
    const acts = Array.from({ length: 60 }, () => randomActions(rng, 8));
    const steps = rollout(nonstationaryEnv('ant'), taskWith(antFamily, { legs: [0, 3], scale: 0.3 }), 60, (t) => acts[t]);
    steps.slice(1).forEach((ts, t) => {
      const o = ts.observations;
      const costs = 0.005 * acts[t].reduce((s, x) => s + x * x, 0) + 0.0005 * o.subarray(29).reduce((s, f) => s + f * f, 0);
      expect(ts.rewards[0]).toBeCloseTo(o[15] - costs + 0.05, 4);
    });
  });

  it('refuses bad legs and scales, naming the field', () => {
    const env = nonstationaryEnv('ant', nonstationaryEnvConfig.parse({ horizon: 10 }));
    expect(() => env.validateTask(taskWith(antFamily, { legs: [1, 1], scale: 0.5 }), 'tasks[2]')).toThrow(/tasks\[2\]\.params\.legs: must be two distinct leg indices in \[0, 3\]/);
    expect(() => env.validateTask(taskWith(antFamily, { legs: [0, 4], scale: 0.5 }), 'tasks[0]')).toThrow(/params\.legs/);
    expect(() => env.validateTask(taskWith(antFamily, { legs: [0, 1], scale: -1 }), 'tasks[0]')).toThrow(/tasks\[0\]\.params\.scale/);
    expect(() => env.validateTask(taskWith(bugFamily, { legs: [0, 5], scale: 0 }), 'tasks[0]')).toThrow(/\[0, 3\]/);
  });
});
