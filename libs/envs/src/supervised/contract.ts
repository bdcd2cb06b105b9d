import type { SplitName, Task } from '@chameleon/tasks';
import type { SupervisedDataFn } from './source';

/**
 * The contract every supervised source must honour, in process or behind gRPC.
 * `tasks(n)` returns n valid tasks of the source's family.
 */
export function describeSupervisedSourceContract(
  label: string,
  make: () => SupervisedDataFn | Promise<SupervisedDataFn>,
  tasks: (n: number, split?: SplitName) => Task[] | Promise<Task[]>,
  shapes: { input: number[]; target: number[] },
): void {
  describe(`supervised source contract: ${label}`, () => {
    let data: SupervisedDataFn;
    beforeAll(async () => {
      data = await make();
    });

    it('returns [T, K, ...] support and [T, Q, ...] query sets', async () => {
      const batch = await data(await tasks(3), { supportSize: 4, querySize: 6, seed: 1 });
      expect(batch.supportX.shape).toEqual([3, 4, ...shapes.input]);
      expect(batch.supportY.shape).toEqual([3, 4, ...shapes.target]);
      expect(batch.queryX.shape).toEqual([3, 6, ...shapes.input]);
      expect(batch.queryY.shape).toEqual([3, 6, ...shapes.target]);
    });

    it('is reproducible and depends on the seed', async () => {
      const ts = await tasks(2);
      const a = await data(ts, { supportSize: 5, querySize: 5, seed: 7 });
      const b = await data(ts, { supportSize: 5, querySize: 5, seed: 7 });
      const c = await data(ts, { supportSize: 5, querySize: 5, seed: 8 });
      expect(Array.from(b.supportX.data)).toEqual(Array.from(a.supportX.data));
      expect(Array.from(b.queryY.data)).toEqual(Array.from(a.queryY.data));
      expect(Array.from(c.supportX.data)).not.toEqual(Array.from(a.supportX.data));
    });

    it('gives each task its own data: a task draws the same data in any batch', async () => {
      const ts = await tasks(3);
      const all = await data(ts, { supportSize: 4, querySize: 2, seed: 3 });
      const one = await data([ts[2]], { supportSize: 4, querySize: 2, seed: 3 });
      const per = all.supportX.data.length / 3;
      expect(Array.from(one.supportX.data)).toEqual(Array.from(all.supportX.data.slice(2 * per)));
    });

    it('rejects a zero support size', async () => {
      await expect(data(await tasks(1), { supportSize: 0, querySize: 1, seed: 0 })).rejects.toThrow(/support_size/);
    });

    it('produces finite values', async () => {
      const batch = await data(await tasks(4), { supportSize: 8, querySize: 8, seed: 2 });
      for (const t of [batch.supportX, batch.supportY, batch.queryX, batch.queryY]) {
        expect(Array.from(t.data as ArrayLike<number>).every(Number.isFinite)).toBe(true);
      }
    });
  });
}
