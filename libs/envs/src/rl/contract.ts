import { Rng } from '@chameleon/core';
import type { Task } from '@chameleon/tasks';
import { StepType, sizeOfShape, type TimeSteps } from './environment';
import type { Worlds, WorldsFactory } from './worlds';

function randomActions(w: Worlds, rng: Rng, scale = 1): Float32Array {
  const n = sizeOfShape(w.spec.actionShape);
  const a = new Float32Array(w.numWorlds * n);
  for (let i = 0; i < a.length; i++) {
    const j = i % n;
    const lo = w.spec.actionMinimum[j];
    const hi = w.spec.actionMaximum[j];
    a[i] = scale * rng.uniform(lo, hi);
  }
  return a;
}

const finite = (x: Float32Array) => x.every((v) => Number.isFinite(v));

/** Runs one full episode in every world with seeded random actions; returns all time steps. */
async function episode(w: Worlds, seed: number, scale = 1): Promise<TimeSteps[]> {
  const rng = Rng.fromKeys('contract-actions', seed);
  const steps = [await w.reset()];
  const done = new Uint8Array(w.numWorlds);
  for (let t = 0; t < w.spec.maxEpisodeSteps && !done.every(Boolean); t++) {
    const ts = await w.step(randomActions(w, rng, scale));
    ts.stepTypes.forEach((s, i) => {
      if (s === StepType.LAST) done[i] = 1;
    });
    steps.push(ts);
  }
  return steps;
}

/** How the suite should size world sets. */
export interface EnvironmentContractOptions {
  /**
   * Agents per match of a multi-agent environment (default 1). Every world count the suite
   * asks for is then a whole number of matches (n matches = n * k worlds), and the suite also
   * checks the match semantics: world counts that are not a multiple are refused, agents of a
   * match share step types, and outcomes appear only on terminal steps.
   */
  readonly agentsPerMatch?: number;
}

/**
 * The contract every sequential environment must honour, in process or behind gRPC (a
 * simulator written in another language can run it too). `tasks(n)` gives n tasks of the
 * environment's family; `otherFamilyTask` one it must refuse.
 */
export function describeEnvironmentContract(
  label: string,
  make: () => WorldsFactory | Promise<WorldsFactory>,
  tasks: (n: number) => Task[],
  otherFamilyTask?: Task,
  options: EnvironmentContractOptions = {},
): void {
  // k worlds per unit: with one agent per world every count below is unchanged.
  const k = options.agentsPerMatch ?? 1;
  const zeros = (n: number) => new Array<number>(n * k).fill(0);
  const same = <T>(n: number, v: T) => new Array<T>(n * k).fill(v);
  describe(`environment contract: ${label}`, () => {
    let factory: WorldsFactory;
    const open: Worlds[] = [];
    const worlds = async (ts: Task[], n: number, seed: number) => {
      const w = await factory(ts, n, seed);
      open.push(w);
      return w;
    };
    beforeAll(async () => {
      factory = await make();
    });
    afterAll(async () => {
      for (const w of open) await w.close().catch(() => undefined);
    });

    it('resets every world to a FIRST step with finite observations of the declared shape', async () => {
      const w = await worlds(tasks(3 * k), 3 * k, 1);
      const ts = await w.reset();
      expect(Array.from(ts.stepTypes)).toEqual(same(3, StepType.FIRST));
      expect(ts.observations.length).toBe(3 * k * sizeOfShape(w.spec.observationShape));
      expect(finite(ts.observations)).toBe(true);
      expect(Array.from(ts.rewards)).toEqual(zeros(3));
      expect(Array.from(ts.discounts)).toEqual(same(3, 1));
      if (k > 1) expect(Array.from(ts.outcomes ?? [])).toEqual(zeros(3));
      expect(w.spec.actionMinimum.length).toBe(sizeOfShape(w.spec.actionShape));
      w.spec.actionMinimum.forEach((lo, i) => expect(lo).toBeLessThan(w.spec.actionMaximum[i]));
    });

    it('runs episodes of at most maxEpisodeSteps actions: FIRST, MID..., LAST, then FIRST again', async () => {
      const w = await worlds(tasks(2 * k), 2 * k, 2);
      const steps = await episode(w, 3);
      for (let i = 0; i < 2 * k; i++) {
        const types = steps.map((s) => s.stepTypes[i]);
        const end = types.indexOf(StepType.LAST);
        expect(end).toBeGreaterThan(0);
        expect(end).toBeLessThanOrEqual(w.spec.maxEpisodeSteps);
        expect(types.slice(1, end).every((t) => t === StepType.MID)).toBe(true);
        if (end === w.spec.maxEpisodeSteps) expect(steps[end].discounts[i]).toBe(1);
      }
      for (const s of steps) {
        expect(finite(s.observations)).toBe(true);
        expect(finite(s.rewards)).toBe(true);
      }
      // After LAST the next step begins a new episode.
      const after = await w.step(new Float32Array(2 * k * sizeOfShape(w.spec.actionShape)));
      steps[steps.length - 1].stepTypes.forEach((t, i) => {
        if (t === StepType.LAST) expect(after.stepTypes[i]).toBe(StepType.FIRST);
      });
    });

    it('is deterministic in seed, tasks and actions', async () => {
      const a = await episode(await worlds(tasks(2 * k), 2 * k, 7), 11);
      const b = await episode(await worlds(tasks(2 * k), 2 * k, 7), 11);
      expect(b.map((s) => Array.from(s.observations))).toEqual(a.map((s) => Array.from(s.observations)));
      expect(b.map((s) => Array.from(s.rewards))).toEqual(a.map((s) => Array.from(s.rewards)));
    });

    it('rewards depend on the task', async () => {
      const [t0, t1] = tasks(2);
      const a = await episode(await worlds([t0], k, 5), 13);
      const b = await episode(await worlds([t1], k, 5), 13);
      const sum = (s: TimeSteps[]) => s.reduce((acc, x) => acc + x.rewards[0], 0);
      expect(sum(a)).not.toBeCloseTo(sum(b), 6);
    });

    it('clips actions to the bounds', async () => {
      const w = await worlds(tasks(k), k, 9);
      await w.reset();
      const n = sizeOfShape(w.spec.actionShape);
      const huge = await w.step(new Float32Array(k * n).fill(1e9));
      const w2 = await worlds(tasks(k), k, 9);
      await w2.reset();
      const atMax = await w2.step(Float32Array.from(same(1, w.spec.actionMaximum).flat()));
      expect(Array.from(huge.observations)).toEqual(Array.from(atMax.observations));
    });

    it('refuses actions of the wrong size or NaN, naming the field', async () => {
      const w = await worlds(tasks(2 * k), 2 * k, 1);
      await w.reset();
      const n = 2 * k * sizeOfShape(w.spec.actionShape);
      await expect(w.step(new Float32Array(n + 1))).rejects.toThrow(/actions/);
      await expect(w.step(new Float32Array(n).fill(NaN))).rejects.toThrow(/actions/);
    });

    if (otherFamilyTask) {
      it('refuses tasks of another family', async () => {
        await expect(factory([otherFamilyTask], k, 0)).rejects.toThrow(/family/);
      });
    }

    if (k > 1) {
      it('refuses world counts that are not whole matches, naming num_worlds', async () => {
        await expect(factory(tasks(1), k + 1, 0)).rejects.toThrow(/num_worlds/);
      });

      it('steps the agents of a match together; outcomes (+1/0/-1) only on terminal LAST steps', async () => {
        const w = await worlds(tasks(2 * k), 2 * k, 4);
        const steps = await episode(w, 17);
        for (const s of steps) {
          expect(s.outcomes).toBeInstanceOf(Int8Array);
          expect(s.outcomes?.length).toBe(2 * k);
          for (let m = 0; m < 2; m++) {
            const block = (x: ArrayLike<number>) => Array.from(x).slice(m * k, (m + 1) * k);
            expect(new Set(block(s.stepTypes)).size).toBe(1);
            expect(new Set(block(s.discounts)).size).toBe(1);
          }
          s.outcomes?.forEach((o, i) => {
            expect([-1, 0, 1]).toContain(o);
            if (o !== 0) expect([s.stepTypes[i], s.discounts[i]]).toEqual([StepType.LAST, 0]);
          });
        }
      });
    }
  });
}
