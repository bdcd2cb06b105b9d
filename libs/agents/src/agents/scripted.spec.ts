import { Rng } from '@chameleon/core';
import { constantGait, pushTowardOpponent } from '@chameleon/envs';
import type { AgentContext } from '../context';
import { gaitAgent, sumoIdleAgent, sumoPusherAgent } from './scripted';

const ctx = {} as AgentContext;

describe('scripted agent plugins (wrapping libs/envs scripted policies)', () => {
  it('have the environments\' sizes: sumo ant 98/8, bug 130/12; nonstationary ant 83/8', () => {
    const pusher = sumoPusherAgent.create(sumoPusherAgent.configSchema.parse({}))(ctx);
    expect([pusher.observationSize, pusher.actionSize]).toEqual([98, 8]);
    const bug = sumoIdleAgent.create(sumoIdleAgent.configSchema.parse({ anatomy: 'bug' }))(ctx);
    expect([bug.observationSize, bug.actionSize]).toEqual([130, 12]);
    const gait = gaitAgent.create(gaitAgent.configSchema.parse({}))(ctx);
    expect([gait.observationSize, gait.actionSize]).toEqual([83, 8]);
  });

  it('act exactly as the scripted policy, scaled by strength, with a clock per session', async () => {
    const rng = new Rng(1);
    const observations = Array.from({ length: 5 }, () => new Float32Array(98).map(() => rng.normal()));
    const reference = pushTowardOpponent('ant');
    const half = sumoPusherAgent.create(sumoPusherAgent.configSchema.parse({ strength: 0.5 }))(ctx);
    const [s1, s2] = [half.session({ opponentId: 'a', seed: 1 }), half.session({ opponentId: 'b', seed: 2 })];
    observations.forEach((o) => {
      const want = reference(o).map((a) => 0.5 * a);
      expect(Array.from(s1.act(o).action)).toEqual(Array.from(want));
    });
    // A new session starts its own clock: its first action is the reference's first.
    expect(Array.from(s2.act(observations[0]).action)).toEqual(Array.from(pushTowardOpponent('ant')(observations[0]).map((a) => 0.5 * a)));
    const gait = gaitAgent.create(gaitAgent.configSchema.parse({}))(ctx).session({ opponentId: 'x', seed: 0 });
    const g = constantGait('ant');
    for (let t = 0; t < 3; t++) expect(Array.from(gait.act(new Float32Array(83)).action)).toEqual(Array.from(g(new Float32Array(83))));
    expect((await gait.endRound([])).episodesUsed).toBe(0);
  });
});
