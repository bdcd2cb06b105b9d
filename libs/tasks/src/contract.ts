import type { SplitName } from './task';
import type { TaskSource } from './sampler';

/**
 * The contract every task source must honour, in process or behind gRPC. Call it from a
 * jest spec file: `describeTaskSourceContract('sinusoid (local)', () => source)`.
 */
export function describeTaskSourceContract(label: string, make: () => TaskSource | Promise<TaskSource>, splits: SplitName[] = ['train', 'test']): void {
  describe(`task source contract: ${label}`, () => {
    let source: TaskSource;
    beforeAll(async () => {
      source = await make();
    });

    it('returns exactly count tasks with consecutive indices', async () => {
      const tasks = await source({ split: splits[0], seed: 3, start: 7, count: 5 });
      expect(tasks.map((t) => t.index)).toEqual([7, 8, 9, 10, 11]);
    });

    it('is reproducible: the same request gives the same tasks', async () => {
      const a = await source({ split: splits[0], seed: 11, start: 0, count: 8 });
      const b = await source({ split: splits[0], seed: 11, start: 0, count: 8 });
      expect(b).toEqual(a);
    });

    it('draws windows consistently: task i does not depend on the window', async () => {
      const whole = await source({ split: splits[0], seed: 5, start: 0, count: 10 });
      const part = await source({ split: splits[0], seed: 5, start: 6, count: 2 });
      expect(part).toEqual(whole.slice(6, 8));
    });

    it('gives distinct ids to distinct tasks and different tasks for different seeds and splits', async () => {
      const a = await source({ split: splits[0], seed: 1, start: 0, count: 50 });
      expect(new Set(a.map((t) => t.id)).size).toBe(50);
      const b = await source({ split: splits[0], seed: 2, start: 0, count: 50 });
      expect(a.filter((t, i) => t.id === b[i].id)).toHaveLength(0);
      if (splits.length > 1) {
        const c = await source({ split: splits[1], seed: 1, start: 0, count: 50 });
        expect(a.filter((t, i) => t.id === c[i].id)).toHaveLength(0);
      }
    });

    it('produces JSON-serialisable params and uint32 seeds', async () => {
      const [t] = await source({ split: splits[0], seed: 9, start: 0, count: 1 });
      expect(JSON.parse(JSON.stringify(t.params))).toEqual(t.params);
      expect(Number.isInteger(t.seed) && t.seed >= 0 && t.seed <= 0xffffffff).toBe(true);
      expect(t.id).toMatch(/^[0-9a-f]{16}$/);
    });

    it('rejects a zero count', async () => {
      await expect(source({ split: splits[0], seed: 1, start: 0, count: 0 })).rejects.toThrow(/count/);
    });
  });
}
