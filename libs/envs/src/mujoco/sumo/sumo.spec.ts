import { Rng } from '@chameleon/core';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { describeEnvironmentContract } from '../../rl/contract';
import { StepType } from '../../rl/environment';
import { VectorEnv } from '../../rl/vector-env';
import { localWorlds } from '../../rl/worlds';
import { ensureMujoco } from '../runtime';
import { taskWith } from '../testing';
import { judgeSumo, lossReason, shapingTerms, sumoObservationLayout, type SumoRules } from './rules';
import { SumoEnvironment, SumoFamily, sumoEnvConfig, sumoFamilyConfig, type SumoMatch } from './sumo';

const family = new SumoFamily();
const sinusoid = sampleTasks(new SinusoidFamily(), { split: 'train', seed: 1, start: 0, count: 1 })[0];
const tasks = (n: number) => sampleTasks(family, { split: 'train', seed: 1, start: 0, count: n });
const L = sumoObservationLayout(4);

describeEnvironmentContract('sumo (in process, 2 agents per match)', async () => (await ensureMujoco(), localWorlds(new SumoEnvironment())), tasks, sinusoid, { agentsPerMatch: 2 });

describe('sumo rules on scripted states', () => {
  const rules: SumoRules = { ringRadius: 2, minTorsoHeight: 0.26, maxTilt: Math.PI / 2 };
  const upright = (x: number, y = 0) => ({ x, y, z: 0.4, up: 1 });

  it('an agent outside the ring loses and the other wins; inside the ring play goes on', () => {
    expect(judgeSumo([upright(0.5), upright(-0.5)], rules)).toEqual({ terminated: false, outcomes: [0, 0] });
    expect(judgeSumo([upright(1.5, 1.4), upright(-0.5)], rules)).toEqual({ terminated: true, outcomes: [-1, 1] });
    expect(judgeSumo([upright(0), upright(0, -2.01)], rules)).toEqual({ terminated: true, outcomes: [1, -1] });
    expect(lossReason(upright(1.99), rules)).toBeUndefined();
  });

  it('a fallen agent (tilted past maxTilt, or torso below minTorsoHeight) loses; both at once lose both', () => {
    expect(lossReason({ ...upright(0), up: -0.01 }, rules)).toBe('fallen');
    expect(lossReason({ ...upright(0), up: 0.01 }, rules)).toBeUndefined();
    expect(lossReason({ ...upright(0), z: 0.25 }, rules)).toBe('fallen');
    expect(judgeSumo([{ ...upright(0), up: -1 }, upright(1)], rules)).toEqual({ terminated: true, outcomes: [-1, 1] });
    expect(judgeSumo([upright(3), { ...upright(0), up: -1 }], rules)).toEqual({ terminated: true, outcomes: [-1, -1] });
  });

  it('shaping: pays speed toward the opponent (not away), pushing it from the centre, staying central', () => {
    const c = { moveToOpponentCoeff: 0.1, pushOpponentCoeff: 10, stayInCenterCoeff: 0.1 };
    const toward = shapingTerms([0, 0], [0.05, 0], [1, 0], 0.05, c);
    expect(toward.moveToOpponent).toBeCloseTo(0.1 * 1, 12);
    expect(shapingTerms([0, 0], [-0.05, 0], [1, 0], 0.05, c).moveToOpponent).toBe(0);
    expect(shapingTerms([0, 0], [0, 0.05], [1, 0], 0.05, c).moveToOpponent).toBeCloseTo(0, 12);
    expect(toward.pushOpponent).toBeCloseTo(-10 * Math.exp(-1), 12);
    expect(shapingTerms([0, 0], [0, 0], [1.9, 0], 0.05, c).pushOpponent).toBeGreaterThan(toward.pushOpponent);
    expect(toward.stayInCenter).toBeCloseTo(0.1 * Math.exp(-0.05), 12);
  });
});

describe('sumo matches', () => {
  beforeAll(() => ensureMujoco());
  const zero = [new Float32Array(8), new Float32Array(8)];
  const obs = () => [new Float32Array(L.size), new Float32Array(L.size)];
  const withMatch = (f: (m: SumoMatch, env: SumoEnvironment) => void, config = sumoEnvConfig.parse({})) => {
    const env = new SumoEnvironment(config);
    const m = env.createMatch();
    try {
      f(m, env);
    } finally {
      m.close();
    }
  };

  it('has the documented spec: 98 observations (ant), 8 actions per agent, 500 steps; 130 for the bug', () => {
    expect(new SumoEnvironment().spec).toMatchObject({ observationShape: [98], actionShape: [8], maxEpisodeSteps: 500 });
    expect(new SumoEnvironment(sumoEnvConfig.parse({ agent: 'bug' })).spec.observationShape).toEqual([130]);
    expect(() => new SumoEnvironment().createWorld()).toThrow(/2 agents per match/);
  });

  it('starts the agents facing each other across the centre along the task angle; observes the opponent relative to self', () => {
    withMatch(
      (m) => {
        const o = obs();
        const angle = 0.7;
        m.reset([taskWith(family, { angle }), taskWith(family, { angle: 3 })], new Rng(5), o);
        const [a, b] = [m.torso(0), m.torso(1)];
        expect(a.x).toBeCloseTo(Math.cos(angle), 1);
        expect(a.y).toBeCloseTo(Math.sin(angle), 1);
        expect(b.x).toBeCloseTo(-Math.cos(angle), 1);
        // Heading of each torso points at the centre (yaw noise off here).
        const q = o[0].subarray(3, 7);
        const yaw = 2 * Math.atan2(q[3], q[0]);
        expect([Math.cos(yaw), Math.sin(yaw)]).toEqual([expect.closeTo(-Math.cos(angle), 6), expect.closeTo(-Math.sin(angle), 6)]);
        const rel = (i: number) => Array.from(o[i].subarray(L.opponentPosition, L.opponentPosition + 3));
        [b.x - a.x, b.y - a.y, b.z - a.z].forEach((d, j) => {
          expect(rel(0)[j]).toBeCloseTo(d, 5);
          expect(rel(1)[j]).toBeCloseTo(-d, 5);
        });
        expect(o[0][L.ownDistance]).toBeCloseTo(Math.hypot(a.x, a.y), 5);
        expect(o[0][L.opponentDistance]).toBeCloseTo(Math.hypot(b.x, b.y), 5);
        expect(Array.from(o[1].subarray(0, 3))).toEqual([b.x, b.y, b.z].map(Math.fround));
        expect(Array.from(o[0].subarray(L.opponentQuaternion, L.opponentQuaternion + 4))).toEqual(Array.from(o[1].subarray(3, 7)));
      },
      sumoEnvConfig.parse({ yawNoise: 0 }),
    );
  });

  it('an agent placed outside the ring loses: -1 and lossReward for it, +1 and winReward for the other', () => {
    withMatch((m) => {
      const o = obs();
      m.reset(tasks(2), new Rng(1), o);
      m.placeTorso(1, [2.3, 0.4, 0.5]);
      const r = m.step(zero, o);
      expect(r.terminated).toBe(true);
      expect(r.outcomes).toEqual([1, -1]);
      expect(r.rewards[0]).toBeGreaterThan(1900);
      expect(r.rewards[1]).toBeLessThan(-1900);
    });
  });

  it('an agent placed upside down has fallen and loses', () => {
    withMatch((m) => {
      const o = obs();
      m.reset(tasks(2), new Rng(2), o);
      m.placeTorso(0, [-1, 0, 0.6], [0, 1, 0, 0]);
      const r = m.step(zero, o);
      expect(r.outcomes).toEqual([-1, 1]);
    });
  });

  it('reaching the time limit is a draw for both: LAST, discount 1, outcomes 0, no sparse reward', () => {
    const v = new VectorEnv(new SumoEnvironment(), 2, tasks(1), 3, 20);
    let ts = v.reset();
    for (let t = 0; t < 20; t++) ts = v.step(new Float32Array(16));
    v.close();
    expect(Array.from(ts.stepTypes)).toEqual([StepType.LAST, StepType.LAST]);
    expect(Array.from(ts.discounts)).toEqual([1, 1]);
    expect(Array.from(ts.outcomes ?? [])).toEqual([0, 0]);
    ts.rewards.forEach((r) => expect(Math.abs(r)).toBeLessThan(20));
  });

  it('through VectorEnv a decided match is LAST with discount 0 and outcomes for both agents', () => {
    // Starting 1 m from the centre of a 0.9 m ring, both agents are out at the first step.
    const v = new VectorEnv(new SumoEnvironment(sumoEnvConfig.parse({ ringRadius: 0.9 })), 4, tasks(1), 3);
    v.reset();
    const ts = v.step(new Float32Array(32));
    v.close();
    expect(Array.from(ts.stepTypes)).toEqual(Array(4).fill(StepType.LAST));
    expect(Array.from(ts.discounts)).toEqual([0, 0, 0, 0]);
    expect(Array.from(ts.outcomes ?? [])).toEqual([-1, -1, -1, -1]);
  });

  it('pays shaping - 0.1 |a|^2 computed from consecutive observations (the reward formula, checked against the state)', () => {
    const config = sumoEnvConfig.parse({ shapingWeight: 0.5 });
    withMatch((m) => {
      const o = obs();
      m.reset(tasks(2), new Rng(3), o);
      const rng = Rng.fromKeys('sumo-reward');
      let checked = 0;
      for (let t = 0; t < 60; t++) {
        const prev = o.map((x) => [x[0], x[1]] as [number, number]);
        const acts = [0, 1].map(() => Float32Array.from({ length: 8 }, () => rng.uniform(-0.3, 0.3)));
        const r = m.step(acts, o);
        if (r.terminated) break;
        for (let a = 0; a < 2; a++) {
          const self1: [number, number] = [o[a][0], o[a][1]];
          const opp1: [number, number] = [self1[0] + o[a][L.opponentPosition], self1[1] + o[a][L.opponentPosition + 1]];
          const s = shapingTerms(prev[a], self1, opp1, 0.05, config);
          const expected = 0.5 * (s.moveToOpponent + s.pushOpponent + s.stayInCenter) - 0.1 * acts[a].reduce((acc, x) => acc + x * x, 0);
          expect(r.rewards[a]).toBeCloseTo(expected, 4);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(40);
    }, config);
  });

  it('refuses tasks without a usable angle, naming the field', () => {
    expect(() => new SumoEnvironment().validateTask(taskWith(family, { angle: 'x' }), 'tasks[1]')).toThrow(/tasks\[1\]\.params\.angle/);
  });
});

describe('sumo task family', () => {
  it('serves games of 100 rounds with start-line angles in [0, 2 pi)', () => {
    const t = sampleTasks(family, { split: 'train', seed: 2, start: 98, count: 4 });
    expect(t.map((x) => [x.params.sequence, x.params.position, x.params.length])).toEqual([
      [0, 98, 100],
      [0, 99, 100],
      [1, 0, 100],
      [1, 1, 100],
    ]);
    t.forEach((x) => expect(x.params.angle as number).toBeGreaterThanOrEqual(0));
    expect(new SumoFamily(sumoFamilyConfig.parse({ rounds: 5 })).sequenceLength).toBe(5);
  });
});
