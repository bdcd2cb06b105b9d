import { Rng } from '@chameleon/core';
import { SinusoidFamily, sampleTasks, type Task, type TaskFamily } from '@chameleon/tasks';
import { describeEnvironmentContract } from './contract';
import { StepType, type Match, type SequentialEnvironment } from './environment';
import { VectorEnv } from './vector-env';
import { localWorlds } from './worlds';

/**
 * A two-player toy on a line, to pin the multi-agent VectorEnv semantics without physics:
 * each agent's position moves by its action times the task's `speed`; an agent past |x| > 1
 * loses (both at once: both lose). Observation [own x, opponent x - own x]; reward = own x.
 */
const lineFamily: TaskFamily = {
  name: 'line',
  version: '1.0.0',
  description: 'toy',
  splits: ['train'],
  draw: (split, seed, index) => ({ speed: 0.1 + Rng.fromKeys('line', split, seed, index).next() * 0.2 }),
};

class LineMatch implements Match {
  x = [0, 0];
  speed = [0, 0];
  tasksSeen: Task[][] = [];
  actionsSeen: number[][] = [];
  reset(tasks: readonly Task[], rng: Rng, obs: readonly Float32Array[]): void {
    this.tasksSeen.push([...tasks]);
    this.speed = tasks.map((t) => t.params.speed as number);
    this.x = [-0.5 + rng.uniform(-0.01, 0.01), 0.5];
    this.observe(obs);
  }
  step(actions: readonly Float32Array[], obs: readonly Float32Array[]) {
    this.actionsSeen.push(actions.map((a) => a[0]));
    this.x = this.x.map((x, a) => x + this.speed[a] * actions[a][0]);
    this.observe(obs);
    const lost = this.x.map((x) => Math.abs(x) > 1);
    const terminated = lost[0] || lost[1];
    const outcomes = lost[0] && lost[1] ? [-1, -1] : lost[0] ? [-1, 1] : [1, -1];
    return terminated ? { rewards: [...this.x], terminated, outcomes } : { rewards: [...this.x], terminated };
  }
  private observe(obs: readonly Float32Array[]) {
    obs.forEach((o, a) => o.set([this.x[a], this.x[1 - a] - this.x[a]]));
  }
}

function lineEnv(horizon = 50, matches: LineMatch[] = []): SequentialEnvironment {
  return {
    kind: 'sequential',
    name: 'line',
    version: '1.0.0',
    description: 'toy two-player line',
    family: 'line',
    spec: { observationShape: [2], actionShape: [1], actionMinimum: [-1], actionMaximum: [1], maxEpisodeSteps: horizon },
    agentsPerMatch: 2,
    createMatch: () => {
      const m = new LineMatch();
      matches.push(m);
      return m;
    },
    createWorld: () => {
      throw new Error('line has two agents per match');
    },
  };
}

const lineTasks = (n: number) => sampleTasks(lineFamily, { split: 'train', seed: 1, start: 0, count: n });
const sinusoid = sampleTasks(new SinusoidFamily(), { split: 'train', seed: 1, start: 0, count: 1 })[0];

describeEnvironmentContract('two-player line (in process)', () => localWorlds(lineEnv()), lineTasks, sinusoid, { agentsPerMatch: 2 });

describe('VectorEnv with matches (agentsPerMatch = 2)', () => {
  const act = (...a: number[]) => Float32Array.from(a);

  it('groups worlds in consecutive blocks: world m * 2 + a is agent a of match m, with its own task and action', () => {
    const matches: LineMatch[] = [];
    const tasks = lineTasks(4);
    const v = new VectorEnv(lineEnv(50, matches), 4, tasks, 1);
    const ts = v.reset();
    expect(matches).toHaveLength(2);
    expect(matches.map((m) => m.tasksSeen[0].map((t) => t.id))).toEqual([
      [tasks[0].id, tasks[1].id],
      [tasks[2].id, tasks[3].id],
    ]);
    // World 1 = agent 1 of match 0: [own x, opponent x - own x].
    expect(ts.observations[2]).toBe(0.5);
    expect(ts.observations[3]).toBeCloseTo(matches[0].x[0] - 0.5, 6);
    v.step(act(1, -1, 0.5, 5));
    // Clipped to [-1, 1] per element, routed to the right agents.
    expect(matches.map((m) => m.actionsSeen[0])).toEqual([
      [1, -1],
      [0.5, 1],
    ]);
  });

  it('ends a decided match for both agents (LAST, discount 0, outcomes +1/-1); other matches play on', () => {
    const v = new VectorEnv(lineEnv(), 4, lineTasks(1), 1);
    v.reset();
    let ts = v.step(act(0, 0, 0, 0));
    // Agent 1 of match 0 runs right until it leaves; match 1 stands still.
    for (let t = 0; t < 100 && ts.stepTypes[0] !== StepType.LAST; t++) ts = v.step(act(0, 1, 0, 0));
    expect(Array.from(ts.stepTypes)).toEqual([StepType.LAST, StepType.LAST, StepType.MID, StepType.MID]);
    expect(Array.from(ts.discounts)).toEqual([0, 0, 1, 1]);
    expect(Array.from(ts.outcomes ?? [])).toEqual([1, -1, 0, 0]);
    const next = v.step(act(0, 0, 0, 0));
    expect(Array.from(next.stepTypes)).toEqual([StepType.FIRST, StepType.FIRST, StepType.MID, StepType.MID]);
    expect(Array.from(next.outcomes ?? [])).toEqual([0, 0, 0, 0]);
    expect(Array.from(v.episodeCounts())).toEqual([2, 2, 1, 1]);
  });

  it('applies the time limit per match: LAST with discount 1 and outcome 0 (a draw) for both agents', () => {
    const v = new VectorEnv(lineEnv(), 2, lineTasks(1), 1, 3);
    let ts = v.reset();
    const types = [Array.from(ts.stepTypes)];
    for (let t = 0; t < 3; t++) {
      ts = v.step(act(0.1, -0.1));
      types.push(Array.from(ts.stepTypes));
    }
    expect(types).toEqual([
      [StepType.FIRST, StepType.FIRST],
      [StepType.MID, StepType.MID],
      [StepType.MID, StepType.MID],
      [StepType.LAST, StepType.LAST],
    ]);
    expect(Array.from(ts.discounts)).toEqual([1, 1]);
    expect(Array.from(ts.outcomes ?? [])).toEqual([0, 0]);
  });

  it('refuses world counts that are not whole matches and environments without createMatch', () => {
    expect(() => new VectorEnv(lineEnv(), 3, lineTasks(1), 1)).toThrow(/num_worlds.*multiple of 2, got 3/);
    const broken = { ...lineEnv(), createMatch: undefined };
    expect(() => new VectorEnv(broken, 2, lineTasks(1), 1)).toThrow(/createMatch/);
  });

  it('refuses NaN actions before any match moves', () => {
    const matches: LineMatch[] = [];
    const v = new VectorEnv(lineEnv(50, matches), 4, lineTasks(1), 1);
    v.reset();
    expect(() => v.step(act(0.5, 0.5, 0.5, NaN))).toThrow(/actions: element 3 is NaN/);
    expect(matches.map((m) => m.actionsSeen.length)).toEqual([0, 0]);
  });

  it('leaves single-agent time steps without outcomes', () => {
    const single: SequentialEnvironment = {
      ...lineEnv(),
      agentsPerMatch: undefined,
      createMatch: undefined,
      createWorld: () => ({ reset: (_t, _r, o) => o.fill(0), step: () => ({ reward: 1, terminated: false }) }),
    };
    const v = new VectorEnv(single, 3, lineTasks(1), 1);
    expect(v.agentsPerMatch).toBe(1);
    expect(v.reset().outcomes).toBeUndefined();
    expect(v.step(new Float32Array(3)).outcomes).toBeUndefined();
  });
});
