import { sampleTasks } from '@chameleon/tasks';
import { StepType } from '../rl/environment';
import { VectorEnv } from '../rl/vector-env';
import { ANATOMY_NAMES, HEXAPOD_LEGS } from './models/legged';
import { NonstationaryLegsFamily, nonstationaryEnv } from './nonstationary/nonstationary';
import { ensureMujoco } from './runtime';
import { DEFAULT_GAITS, constantGait, gaitAction, idlePolicy, pushTowardOpponent, yawOf, type ScriptedPolicy } from './scripted';
import { sumoObservationLayout } from './sumo/rules';
import { SumoEnvironment, SumoFamily, sumoEnvConfig } from './sumo/sumo';
import { rollout, taskWith } from './testing';

describe('scripted policies', () => {
  beforeAll(() => ensureMujoco());

  it.each(ANATOMY_NAMES)('constant gait walks the intact %s forward along +x, upright, for 200 steps', (anatomy) => {
    const family = new NonstationaryLegsFamily(anatomy);
    const gait = constantGait(anatomy);
    const env = nonstationaryEnv(anatomy);
    const steps = rollout(env, taskWith(family, { legs: [0, 1], scale: 1 }), 200, (t) => gait(new Float32Array(0), t));
    expect(steps).toHaveLength(201);
    const o = steps[200].observations;
    expect(o[0]).toBeGreaterThan(0.5);
    expect(1 - 2 * (o[4] ** 2 + o[5] ** 2)).toBeGreaterThan(0.5);
  });

  it('steers the gait toward the opponent: heading = its direction minus own yaw', () => {
    const L = sumoObservationLayout(6);
    const obs = new Float32Array(L.size);
    const yaw = 0.3;
    obs.set([Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)], 3);
    obs.set([Math.cos(1), Math.sin(1), 0], L.opponentPosition);
    expect(yawOf(obs[3], obs[4], obs[5], obs[6])).toBeCloseTo(yaw, 6);
    const expected = gaitAction(HEXAPOD_LEGS, 7, 1 - yaw, DEFAULT_GAITS.bug, new Float32Array(12));
    Array.from(pushTowardOpponent('bug')(obs, 7)).forEach((a, i) => expect(a).toBeCloseTo(expected[i], 5));
    expect(idlePolicy(12)(obs, 0)).toEqual(new Float32Array(12));
  });

  it('without a step number, counts its own calls as the clock (fits observation-only agent wrappers)', () => {
    const [timed, clocked] = [constantGait('spider'), constantGait('spider')];
    const o = new Float32Array(0);
    for (let t = 0; t < 5; t++) expect(clocked(o)).toEqual(timed(o, t));
  });

  it('the pusher (bug) beats an idle bug in most sumo matches', () => {
    const env = new SumoEnvironment(sumoEnvConfig.parse({ agent: 'bug' }));
    const M = 4;
    const [n, O] = [env.spec.actionShape[0], env.spec.observationShape[0]];
    const tasks = sampleTasks(new SumoFamily(), { split: 'train', seed: 1, start: 0, count: 2 * M });
    const players: ScriptedPolicy[] = [pushTowardOpponent('bug'), idlePolicy(n)];
    const v = new VectorEnv(env, 2 * M, tasks, 3);
    let ts = v.reset();
    const outcome = new Array<number | undefined>(M);
    for (let t = 0; t < 500 && outcome.includes(undefined); t++) {
      const a = new Float32Array(2 * M * n);
      for (let w = 0; w < 2 * M; w++) a.set(players[w % 2](ts.observations.subarray(w * O, (w + 1) * O), t), w * n);
      ts = v.step(a);
      for (let m = 0; m < M; m++) if (outcome[m] === undefined && ts.stepTypes[2 * m] === StepType.LAST) outcome[m] = ts.outcomes?.[2 * m];
    }
    v.close();
    expect(outcome.filter((o) => o === 1).length).toBeGreaterThanOrEqual(3);
  });
});
