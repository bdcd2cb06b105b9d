import { Rng } from '@chameleon/core';
import { sampleTasks } from '@chameleon/tasks';
import { antDirEnv, antDirFamily } from './ant/ant';
import { halfCheetahVelEnv } from './half-cheetah/half-cheetah';
import { MujocoWorld } from './locomotion';
import { ANT_XML } from './models/legged';
import { acquireModel, cachedModelCount, ensureMujoco, isMujocoLoaded, releaseModel, releaseUnusedModels } from './runtime';
import { MjSim } from './sim';

// Order matters: the first test runs before anything in this file loads MuJoCo.
describe('MuJoCo runtime', () => {
  it('refuses to create worlds before ensureMujoco(), saying what to call', () => {
    expect(isMujocoLoaded()).toBe(false);
    const env = halfCheetahVelEnv(); // creating the environment itself needs no MuJoCo
    expect(() => env.createWorld()).toThrow(/await ensureMujoco\(\)/);
    expect(() => env.createWorld()).toThrow(expect.objectContaining({ code: 'FAILED_PRECONDITION' }));
  });

  it('loads once: concurrent callers share one module', async () => {
    const [a, b] = await Promise.all([ensureMujoco(), ensureMujoco()]);
    expect(a).toBe(b);
    expect(await ensureMujoco()).toBe(a);
    expect(a.mj_versionString()).toMatch(/^3\./);
  });

  it('reports MJCF that does not compile as INVALID_ARGUMENT on mjcf, with MuJoCo\'s reason', () => {
    const bad = '<mujoco><worldbody><body><joint type="hinge"/></body></worldbody></mujoco>';
    expect(() => acquireModel(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'mjcf' }));
    expect(() => acquireModel(bad)).toThrow(/mass and inertia of moving bodies/);
    expect(() => acquireModel('<mujoco><worldbody>')).toThrow(/mjcf: MuJoCo could not compile the model: .*XML parse error/);
    expect(() => acquireModel('<mujoco><worldbody><geom type="nonsense" size="1"/></worldbody></mujoco>')).toThrow(/invalid keyword: 'nonsense'/);
    // The module survives compile errors.
    expect(new MjSim(ANT_XML).close()).toBeUndefined();
  });

  it('compiles each MJCF string once and frees unused models on request', () => {
    releaseUnusedModels();
    const before = cachedModelCount();
    const xml = ANT_XML.replace('chameleon-legged', 'cache-probe');
    const [a, b] = [new MjSim(xml), new MjSim(xml)];
    expect(a.model).toBe(b.model);
    expect(cachedModelCount()).toBe(before + 1);
    expect(releaseUnusedModels()).toBe(0);
    a.close();
    b.close();
    expect(releaseUnusedModels()).toBe(1);
    expect(cachedModelCount()).toBe(before);
    releaseModel('never-acquired'); // harmless
  });

  it('frees each world\'s MjData on close: 200 create/close cycles do not grow the heap', () => {
    const env = antDirEnv();
    const task = sampleTasks(antDirFamily(), { split: 'train', seed: 1, start: 0, count: 1 })[0];
    const obs = new Float32Array(env.spec.observationShape[0]);
    const probe = new MjSim(ANT_XML);
    probe.reset(new Rng(1), 0, 0);
    const qpos = Array.from(probe.views().qpos);
    // Sensitivity: 60 open worlds (256 KB arena each) must grow the heap...
    const start = probe.heapBytes;
    const open = Array.from({ length: 60 }, () => env.createWorld());
    const peak = probe.heapBytes;
    expect(peak).toBeGreaterThan(start);
    // ...and views taken before the growth are re-fetched, not read from a detached buffer.
    expect(Array.from(probe.views().qpos)).toEqual(qpos);
    open.forEach((w) => w.close?.());
    for (let i = 0; i < 200; i++) {
      const w = env.createWorld();
      w.reset(task, new Rng(i), obs);
      w.step(new Float32Array(8), obs);
      w.close?.();
      w.close?.(); // idempotent
    }
    expect(probe.heapBytes).toBe(peak);
    probe.close();
  });

  it('refuses to step a closed world', () => {
    const w = halfCheetahVelEnv().createWorld() as MujocoWorld;
    w.close();
    expect(() => w.step(new Float32Array(6), new Float32Array(17))).toThrow(/closed/);
  });
});
