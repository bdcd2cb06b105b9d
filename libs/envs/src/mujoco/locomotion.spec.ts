import { Rng } from '@chameleon/core';
import { sampleTasks, type Task } from '@chameleon/tasks';
import { MujocoWorld } from './locomotion';
import { halfCheetahXml } from './models/half-cheetah';
import { ensureMujoco } from './runtime';

/** The shape of a nonstationary world: the back leg's torque factor is 1 / episode number. */
class WeakeningCheetah extends MujocoWorld {
  protected beginEpisode(_task: Task, _rng: Rng): void {
    this.actuatorScale.fill(1 / this.episodes, 0, 3);
  }
  protected observe(obs: Float32Array): void {
    const { qpos, qvel } = this.sim.views();
    obs.set(qpos, 0);
    obs.set(qvel, qpos.length);
  }
  protected evaluate() {
    return { reward: 0, terminated: false };
  }
}

const base = { frameSkip: 5, qposNoise: 0.01, qvelNoise: 0.1 };
const task = sampleTasks({ name: 'any', version: '1', description: '', splits: ['train'], draw: () => ({}) }, { split: 'train', seed: 1, start: 0, count: 1 })[0];

describe('MujocoWorld hooks', () => {
  beforeAll(() => ensureMujoco());

  it('a per-episode actuator scale equals the same gear scale compiled into the model', () => {
    const drifting = new WeakeningCheetah(halfCheetahXml(), base);
    const geared = new WeakeningCheetah(halfCheetahXml({ gearScale: [0.5, 0.5, 0.5, 1, 1, 1] }), base);
    const [a, b] = [new Float32Array(18), new Float32Array(18)];
    drifting.reset(task, new Rng(1), a); // episode 1: factor 1
    drifting.reset(task, new Rng(2), a); // episode 2: factor 1/2
    geared.reset(task, new Rng(2), b); // episode 1 of a half-geared back leg: factor 1
    expect(Array.from(drifting.actuatorScale)).toEqual([0.5, 0.5, 0.5, 1, 1, 1]);
    const rng = new Rng(3);
    for (let t = 0; t < 50; t++) {
      const act = Float32Array.from({ length: 6 }, () => rng.uniform(-1, 1));
      drifting.step(act, a);
      geared.step(act, b);
    }
    Array.from(a).forEach((x, i) => expect(x).toBeCloseTo(b[i], 5));
    drifting.close();
    geared.close();
  });
});
