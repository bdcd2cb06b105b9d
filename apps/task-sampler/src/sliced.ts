/**
 * Tasks per slice of a large request. Task i depends only on (family, split, seed, i), so a
 * request drawn slice by slice is the same as one drawn at once; between slices the handler
 * yields to the event loop so that other calls are answered meanwhile (a 100,000-task request
 * held the process for seconds when drawn in one go).
 */
export const SLICE = 2_000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `draw(start, n)` over [start, start + count) in slices of at most `size` items, yielding between them. */
export async function sliced<T>(start: number, count: number, size: number, draw: (start: number, n: number) => T[]): Promise<T[]> {
  const out: T[] = [];
  for (let s = start; s < start + count; s += size) {
    if (s > start) await nextTurn();
    for (const x of draw(s, Math.min(size, start + count - s))) out.push(x);
  }
  return out;
}
