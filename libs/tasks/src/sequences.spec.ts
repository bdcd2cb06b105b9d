import { Rng } from '@chameleon/core';
import { sampleTasks, taskId } from './sampler';
import { isSequenceFamily, readSequenceSlot, samplePairs, sequenceSlot, sequenceTasks, taskPairs, type SequenceFamily } from './sequences';
import { SinusoidFamily } from './sinusoid/sinusoid';
import type { SplitName } from './task';

/** A drifting target: per sequence a start drawn from (split, seed, k), then +0.1 per position. */
const drift = (L: number): SequenceFamily => ({
  name: 'drift',
  version: '1.0.0',
  description: 'toy sequence family',
  splits: ['train', 'test'],
  sequenceLength: L,
  draw: (split: SplitName, seed: number, index: number) => {
    const slot = sequenceSlot(L, index);
    const start = Rng.fromKeys('drift', split, seed, 'sequence', slot.sequence).uniform(0, 1);
    return { ...slot, target: start + 0.1 * slot.position };
  },
});

describe('task sequences', () => {
  const family = drift(7);

  it('serves T_1 .. T_L of sequence k as the window k L .. k L + L - 1 of the ordinary stream', () => {
    const seq = sequenceTasks(family, 'train', 3, 2);
    expect(seq).toEqual(sampleTasks(family, { split: 'train', seed: 3, start: 14, count: 7 }));
    expect(seq.map((t) => readSequenceSlot(t))).toEqual(Array.from({ length: 7 }, (_, i) => ({ sequence: 2, position: i, length: 7 })));
    // The per-sequence draw is shared and the schedule follows the position.
    seq.forEach((t, i) => expect(t.params.target).toBeCloseTo((seq[0].params.target as number) + 0.1 * i, 12));
    expect(sequenceTasks(family, 'train', 3, 3)[0].params.target).not.toBe(seq[0].params.target);
  });

  it('is deterministic, keeps content-hash ids, and serves prefixes', () => {
    const a = sequenceTasks(family, 'test', 9, 5);
    expect(sequenceTasks(family, 'test', 9, 5)).toEqual(a);
    a.forEach((t) => expect(t.id).toBe(taskId(t.family, t.familyVersion, t.params, t.seed)));
    expect(new Set(a.map((t) => t.id)).size).toBe(7);
    expect(sequenceTasks(family, 'test', 9, 5, 3)).toEqual(a.slice(0, 3));
  });

  it('pairs consecutive tasks of a sequence: (T_1, T_2) .. (T_{L-1}, T_L)', () => {
    const seq = sequenceTasks(family, 'train', 1, 4);
    const pairs = taskPairs(family, 'train', 1, 4);
    expect(pairs).toHaveLength(6);
    pairs.forEach(([a, b], i) => expect([a, b]).toEqual([seq[i], seq[i + 1]]));
    expect(taskPairs(family, 'train', 1, 4, 3)).toEqual(pairs.slice(0, 2));
  });

  it('samples windows of the stream of all pairs consistently across sequence boundaries', () => {
    const all = samplePairs(family, { split: 'train', seed: 2, start: 0, count: 18 });
    expect(all.slice(0, 6)).toEqual(taskPairs(family, 'train', 2, 0));
    expect(all.slice(12, 18)).toEqual(taskPairs(family, 'train', 2, 2));
    expect(samplePairs(family, { split: 'train', seed: 2, start: 4, count: 5 })).toEqual(all.slice(4, 9));
    for (const [a, b] of all) expect(readSequenceSlot(b).position).toBe(readSequenceSlot(a).position + 1);
  });

  it('refuses non-sequence families, lengths beyond L, bad indices and malformed slots, naming the field', () => {
    const sinusoid = new SinusoidFamily();
    expect(isSequenceFamily(sinusoid)).toBe(false);
    expect(isSequenceFamily(family)).toBe(true);
    expect(() => sequenceTasks(sinusoid, 'train', 1, 0, 2)).toThrow(/family.*not a sequence family/);
    expect(() => sequenceTasks(family, 'train', 1, 0, 8)).toThrow(/length: must be an integer in \[1, 7\]/);
    expect(() => sequenceTasks(family, 'train', 1, -1)).toThrow(/sequence_index/);
    expect(() => sequenceTasks(family, 'validation', 1, 0)).toThrow(/split/);
    expect(() => samplePairs(drift(1), { split: 'train', seed: 1, start: 0, count: 1 })).toThrow(/length 1: no consecutive pairs/);
    expect(() => samplePairs(family, { split: 'train', seed: 1, start: 0, count: 0 })).toThrow(/count/);
    const [t] = sampleTasks(sinusoid, { split: 'train', seed: 1, start: 0, count: 1 });
    expect(() => readSequenceSlot(t, 'tasks[2]')).toThrow(/tasks\[2\]\.params\.sequence/);
    expect(() => readSequenceSlot({ ...t, params: { sequence: 0, position: 7, length: 7 } })).toThrow(/task\.params\.position: must be below length 7/);
  });
});
