import { sliced } from './sliced';

describe('sliced', () => {
  it('draws [start, start + count) in slices of at most `size` and lets queued work run between them', async () => {
    const order: string[] = [];
    // Work already queued (e.g. another call's handler) runs after the first slice, not after the last.
    setImmediate(() => order.push('other call'));
    const done = sliced(10, 5, 2, (start, n) => {
      order.push(`draw ${start}+${n}`);
      return Array.from({ length: n }, (_, k) => start + k);
    });
    expect(await done).toEqual([10, 11, 12, 13, 14]);
    expect(order).toEqual(['draw 10+2', 'other call', 'draw 12+2', 'draw 14+1']);
  });

  it('draws a request of one slice at once, without yielding', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('other call'));
    const done = sliced(0, 3, 3, (start, n) => {
      order.push(`draw ${start}+${n}`);
      return Array.from({ length: n }, (_, k) => start + k);
    });
    expect(await done).toEqual([0, 1, 2]);
    expect(order).toEqual(['draw 0+3']);
  });
});
