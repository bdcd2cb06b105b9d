import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { describeEnvironmentContract } from '../rl/contract';
import { StepType } from '../rl/environment';
import { VectorEnv } from '../rl/vector-env';
import { localWorlds } from '../rl/worlds';
import { NavigationEnvironment, NavigationFamily } from './navigation';

const family = new NavigationFamily();
const tasks = (n: number) => sampleTasks(family, { split: 'train', seed: 1, start: 0, count: n });
const sinusoid = sampleTasks(new SinusoidFamily(), { split: 'train', seed: 1, start: 0, count: 1 })[0];

describeEnvironmentContract('2d-navigation (in process)', () => localWorlds(new NavigationEnvironment()), tasks, sinusoid);

describe('2D navigation', () => {
  it('draws goals in [-0.5, 0.5]^2', () => {
    for (const t of tasks(500)) {
      const [x, y] = t.params.goal as number[];
      expect(Math.max(Math.abs(x), Math.abs(y))).toBeLessThanOrEqual(0.5);
    }
  });

  it('moves by the clipped action and pays minus the distance to the goal', () => {
    const task = { ...tasks(1)[0], params: { goal: [0.3, -0.2] } };
    const env = new VectorEnv(new NavigationEnvironment(), 1, [task], 0);
    env.reset();
    const ts = env.step(Float32Array.from([0.5, -0.05]));
    expect(Array.from(ts.observations)).toEqual([expect.closeTo(0.1, 6), expect.closeTo(-0.05, 6)]);
    expect(ts.rewards[0]).toBeCloseTo(-Math.hypot(0.1 - 0.3, -0.05 + 0.2), 6);
  });

  it('ends the episode at the goal (terminal, discount 0) or after 100 steps (time limit, discount 1)', () => {
    const task = { ...tasks(1)[0], params: { goal: [0.1, 0] } };
    const env = new VectorEnv(new NavigationEnvironment(), 1, [task], 0);
    env.reset();
    const ts = env.step(Float32Array.from([0.1, 0]));
    expect([ts.stepTypes[0], ts.discounts[0]]).toEqual([StepType.LAST, 0]);
    const far = new VectorEnv(new NavigationEnvironment(), 1, [{ ...task, params: { goal: [0.5, 0.5] } }], 0);
    far.reset();
    let last = 0;
    for (let t = 1; t <= 100; t++) {
      const s = far.step(Float32Array.from([0, 0]));
      if (s.stepTypes[0] === StepType.LAST) {
        last = t;
        expect(s.discounts[0]).toBe(1);
      }
    }
    expect(last).toBe(100);
  });
});
