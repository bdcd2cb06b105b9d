import { GruPolicy, gruPolicyConfig } from '@chameleon/rl';
import type { AgentContext } from '../context';
import { rl2Agent, rl2AgentConfig } from './rl2';

const config = gruPolicyConfig.parse({ observationSize: 2, actionSize: 2, hidden: 8 });
const policy = new GruPolicy(config);
const ctx: AgentContext = {
  readCheckpoint: () => ({ policy: { architecture: 'rl2-gru', config: config as unknown as Record<string, unknown> }, params: { names: policy.spec.map((s) => s.name), values: policy.init(3) }, trainees: {}, config: {} }),
  createPolicy: () => {
    throw new Error('unused');
  },
};
const o = Float32Array.of(0.2, -0.1);

/** One episode of 3 steps paid `reward` per step, then the first action of the next episode. */
function nextEpisodeAction(reward: number, resetEveryRound = false, endRound = false) {
  const s = rl2Agent.create(rl2AgentConfig.parse({ checkpoint: 'mem', deterministic: true, resetEveryRound }))(ctx).session({ opponentId: 'x', seed: 1 });
  s.act(o, { reward: 0, first: true });
  s.act(o, { reward, first: false });
  s.act(o, { reward, first: false });
  s.lastStep?.(reward);
  if (endRound) void s.endRound([]);
  return Array.from(s.act(o, { reward: 0, first: true }).action);
}

describe('rl2 agent', () => {
  it('keeps its GRU state across episodes, fed the last transition\'s reward; resetEveryRound clears it at endRound', () => {
    expect(nextEpisodeAction(1)).not.toEqual(nextEpisodeAction(-1));
    const fresh = Array.from(rl2Agent.create(rl2AgentConfig.parse({ checkpoint: 'mem', deterministic: true }))(ctx).session({ opponentId: 'y', seed: 1 }).act(o, { reward: 0, first: true }).action);
    expect(nextEpisodeAction(1, true, true)).toEqual(fresh);
    expect(nextEpisodeAction(1, false, true)).not.toEqual(fresh);
  });

  it('refuses a checkpoint of another policy', () => {
    const other: AgentContext = { ...ctx, readCheckpoint: () => ({ ...ctx.readCheckpoint('x'), policy: { architecture: 'gaussian-mlp', config: {} } }) };
    expect(() => rl2Agent.create(rl2AgentConfig.parse({ checkpoint: 'c' }))(other)).toThrow(/needs "rl2-gru"/);
  });
});
