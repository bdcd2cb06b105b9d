import { sampleTasks } from '@chameleon/tasks';
import { NavigationEnvironment, NavigationFamily } from '../navigation/navigation';
import { describeEnvironmentContract } from './contract';
import { TaskObservingEnvironment, taskFeatures } from './task-observing';
import { VectorEnv } from './vector-env';
import { localWorlds } from './worlds';

const tasks = (n: number) => sampleTasks(new NavigationFamily(), { split: 'train', seed: 3, start: 0, count: n });

describeEnvironmentContract('2d-navigation observing its task', () => localWorlds(new TaskObservingEnvironment(new NavigationEnvironment(), 2)), tasks);

describe('TaskObservingEnvironment', () => {
  it('flattens numeric params in key order', () => {
    expect(taskFeatures({ ...tasks(1)[0], params: { b: 2, a: [0.5, -1], name: 'x' } })).toEqual([0.5, -1, 2]);
  });

  it('ends every observation with the task parameters', () => {
    const t = tasks(2);
    const env = new VectorEnv(new TaskObservingEnvironment(new NavigationEnvironment(), 2), 2, t, 0);
    expect(env.spec.observationShape).toEqual([4]);
    const first = env.reset();
    const next = env.step(new Float32Array(4).fill(0.05));
    for (const ts of [first, next]) {
      t.forEach((task, w) => expect(Array.from(ts.observations.slice(w * 4 + 2, w * 4 + 4))).toEqual((task.params.goal as number[]).map((g) => Math.fround(g))));
    }
    expect(next.observations[0]).toBeCloseTo(0.05, 6);
  });

  it('refuses tasks with a different number of parameters', () => {
    expect(() => new VectorEnv(new TaskObservingEnvironment(new NavigationEnvironment(), 3), 1, tasks(1), 0)).toThrow(/expects 3/);
  });
});
