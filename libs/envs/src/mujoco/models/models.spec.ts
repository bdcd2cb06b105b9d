import { Rng } from '@chameleon/core';
import { ensureMujoco, mujoco } from '../runtime';
import { MjSim } from '../sim';
import { HALF_CHEETAH_SIZES, HALF_CHEETAH_XML, halfCheetahXml } from './half-cheetah';
import { ANT_SIZES, ANT_XML, HEXAPOD_LEGS, LEGGED_DEFAULTS, legSizes, leggedAgent, leggedXml } from './legged';
import { floorGeom, mjcfDocument } from './mjcf';

beforeAll(() => ensureMujoco());

const withSim = <T>(xml: string, f: (s: MjSim) => T): T => {
  const sim = new MjSim(xml);
  try {
    return f(sim);
  } finally {
    sim.close();
  }
};

const randomSteps = (sim: MjSim, n: number, seed = 1) => {
  const rng = new Rng(seed);
  sim.reset(rng, 0.01, 0.1);
  for (let t = 0; t < n; t++) {
    const ctrl = sim.views().ctrl;
    for (let i = 0; i < ctrl.length; i++) ctrl[i] = rng.uniform(-1, 1);
    sim.step(5);
  }
};

describe('MJCF models', () => {
  it('half cheetah: 9 DoF (3 root + 6 hinges), 6 motors, 14 kg, timestep 0.01 s', () => {
    withSim(HALF_CHEETAH_XML, (s) => {
      expect({ nq: s.nq, nv: s.nv, nu: s.nu }).toEqual(HALF_CHEETAH_SIZES);
      expect(mujoco().mj_getTotalmass(s.model)).toBeCloseTo(14, 6);
      expect(s.timestep).toBe(0.01);
      expect(Array.from(s.model.actuator_gear as Float64Array).filter((_, i) => i % 6 === 0)).toEqual([120, 90, 60, 120, 60, 30]);
    });
  });

  it('ant: free root + 8 hinges, 8 motors of gear 150, 10 bodies incl. the world', () => {
    withSim(ANT_XML, (s) => {
      expect({ nq: s.nq, nv: s.nv, nu: s.nu, nbody: s.nbody }).toEqual(ANT_SIZES);
      expect(Array.from(s.model.actuator_gear as Float64Array).filter((_, i) => i % 6 === 0)).toEqual(Array(8).fill(150));
    });
  });

  it('builds the same string for the same options (so the model cache hits)', () => {
    expect(halfCheetahXml()).toBe(HALF_CHEETAH_XML);
    expect(leggedXml()).toBe(ANT_XML);
  });

  it('scales gears per actuator (the model-level torque hook) and validates the scales', () => {
    const xml = leggedXml({ gearScale: [1, 1, 0.5, 0.5, 1, 1, 1, 1] });
    withSim(xml, (s) => expect((s.model.actuator_gear as Float64Array)[2 * 6]).toBe(75));
    expect(() => halfCheetahXml({ gearScale: [1, 1] })).toThrow(/gearScale: must hold 6 values/);
    expect(() => leggedXml({ gearScale: [1, 1, -1, 1, 1, 1, 1, 1] })).toThrow(/gearScale\[2\]/);
  });

  it('keeps per-world arenas well within their reserved memory under random actions', () => {
    for (const xml of [HALF_CHEETAH_XML, ANT_XML]) {
      withSim(xml, (s) => {
        randomSteps(s, 500);
        const { peak, size } = s.arenaUse();
        expect(peak).toBeLessThan(size / 4);
      });
    }
  });

  it('builds a six-legged bug from the same leg builder', () => {
    withSim(leggedXml({ legs: HEXAPOD_LEGS }), (s) => {
      expect({ nq: s.nq, nv: s.nv, nu: s.nu, nbody: s.nbody }).toEqual(legSizes(6));
      randomSteps(s, 200);
      expect(Array.from(s.views().qpos).every(Number.isFinite)).toBe(true);
    });
  });

  it('composes two prefixed agents that collide with each other in one arena (RoboSumo hook)', () => {
    const a = leggedAgent({ prefix: 'blue/', position: [-0.45, 0, 0.75], collision: [3, 2] });
    const b = leggedAgent({ prefix: 'red/', position: [0.45, 0, 0.75], collision: [3, 2] });
    const xml = mjcfDocument({ model: 'duel', timestep: 0.01, memory: '1M', defaults: LEGGED_DEFAULTS, worldbody: floorGeom(1) + a.body + b.body, actuators: a.actuators + b.actuators });
    withSim(xml, (s) => {
      expect([s.nq, s.nu]).toEqual([2 * ANT_SIZES.nq, 2 * ANT_SIZES.nu]);
      s.reset(new Rng(1), 0, 0);
      s.step(100);
      // Legs reach 0.81 m from each torso centre: 0.9 m apart, the agents touch and push apart.
      const q = s.views().qpos;
      expect(q[ANT_SIZES.nq] - q[0]).toBeGreaterThan(0.9);
    });
  });
});
