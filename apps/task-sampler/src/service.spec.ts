import { createRegistry } from '@chameleon/builtins';
import { Split, type ListFamiliesResponse } from '@chameleon/proto';
import { describeTaskSourceContract } from '@chameleon/tasks';
import { Peers, remoteTaskSource, unaryCall, type RunningServer } from '@chameleon/transport';
import { healthStatus, rejection, serveForTest } from '@chameleon/transport/src/testing';
import { taskSamplerService } from './service';

let server: RunningServer;
let peers: Peers;

beforeAll(async () => {
  server = await serveForTest([taskSamplerService(createRegistry())]);
  peers = new Peers({ taskSampler: server.address, simulators: ['127.0.0.1:1'], learner: '127.0.0.1:1' });
});
afterAll(async () => {
  peers.close();
  await server.shutdown(1000);
});

describeTaskSourceContract('sinusoid via gRPC', () => remoteTaskSource(peers, 'sinusoid'));

describe('TaskSampler over gRPC', () => {
  const ok = { family: 'sinusoid', familyConfig: {}, split: Split.SPLIT_TRAIN, seed: 1, startIndex: 0, count: 3 };

  afterEach(async () => {
    // Whatever the previous request did, the server still serves.
    expect(await healthStatus(server.address, 'chameleon.v1.TaskSamplerService')).toBe('SERVING');
    expect(await peers.sampleTasks(ok)).toHaveLength(3);
  });

  it('lists its families with defaults and splits', async () => {
    const res = await new Promise<ListFamiliesResponse>((resolve, reject) =>
      peers.taskSampler.listFamilies({}, (e, r) => (e ? reject(e) : resolve(r))),
    );
    const sin = res.families.find((f) => f.name === 'sinusoid')!;
    expect(sin.defaultConfig as unknown).toEqual({ amplitude: [0.1, 5], phase: [0, Math.PI] });
    expect(sin.splits).toEqual([Split.SPLIT_TRAIN, Split.SPLIT_VALIDATION, Split.SPLIT_TEST]);
  });

  it('answers an unknown family with NOT_FOUND listing what exists', async () => {
    const e = await rejection(peers.sampleTasks({ ...ok, family: 'omniglot-typo' }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain(`no task-family plugin named "omniglot-typo"; available: ${createRegistry().names('task-family').join(', ')}`);
  });

  it('answers a missing family or split with INVALID_ARGUMENT naming the field', async () => {
    expect(await rejection(peers.sampleTasks({ ...ok, family: '' }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/family: is required/) });
    expect(await rejection(peers.sampleTasks({ ...ok, split: Split.SPLIT_UNSPECIFIED }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/split: must be/) });
  });

  it('validates the family config and names the bad key', async () => {
    const e = await rejection(peers.sampleTasks({ ...ok, familyConfig: { amplitude: [5, 1] } }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/family_config\.amplitude/);
    const unknown = await rejection(peers.sampleTasks({ ...ok, familyConfig: { frequency: 3 } }));
    expect(unknown.message).toMatch(/family_config/);
  });

  it('answers too many tasks with RESOURCE_EXHAUSTED and zero with INVALID_ARGUMENT', async () => {
    expect((await rejection(peers.sampleTasks({ ...ok, count: 1_000_000 }))).code).toBe('RESOURCE_EXHAUSTED');
    expect(await rejection(peers.sampleTasks({ ...ok, count: 0 }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/count/) });
  });

  it('draws a large request in slices (sliced.ts yields between them) that join up exactly', async () => {
    const all = await peers.sampleTasks({ ...ok, count: 10_000 });
    expect(all.map((t) => t.index)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    // Across a slice boundary (2,000 tasks each) the tasks are those drawn on their own.
    const edge = await peers.sampleTasks({ ...ok, startIndex: 1_999, count: 3 });
    expect(all.slice(1_999, 2_002).map((t) => t.id)).toEqual(edge.map((t) => t.id));
    const pairs = await unaryCall(peers.taskSampler, peers.taskSampler.sampleTaskPairs, { family: 'nonstationary-ant', familyConfig: {}, split: Split.SPLIT_TRAIN, seed: 1, startIndex: 0, count: 1_003 }, 'pairs');
    const tail = await unaryCall(peers.taskSampler, peers.taskSampler.sampleTaskPairs, { family: 'nonstationary-ant', familyConfig: {}, split: Split.SPLIT_TRAIN, seed: 1, startIndex: 999, count: 4 }, 'pairs');
    expect(pairs.pairs.slice(999).map((p) => [p.current?.id, p.next?.id])).toEqual(tail.pairs.map((p) => [p.current?.id, p.next?.id]));
    const seqs = await unaryCall(peers.taskSampler, peers.taskSampler.sampleSequences, { family: 'nonstationary-ant', familyConfig: {}, split: Split.SPLIT_TRAIN, seed: 1, firstSequence: 0, count: 300, length: 0 }, 'seq');
    expect(seqs.sequences.map((q) => q.sequence)).toEqual(Array.from({ length: 300 }, (_, k) => k));
    expect(seqs.sequences.every((q) => q.tasks.length === 7)).toBe(true);
  });

  it('serves sequences and consecutive pairs of a sequence family', async () => {
    const families = await new Promise<ListFamiliesResponse>((resolve, reject) => peers.taskSampler.listFamilies({}, (e, r) => (e ? reject(e) : resolve(r))));
    expect(families.families.find((f) => f.name === 'nonstationary-ant')?.sequenceLength).toBe(7);
    const seqs = await unaryCall(peers.taskSampler, peers.taskSampler.sampleSequences, { family: 'nonstationary-ant', familyConfig: {}, split: Split.SPLIT_TRAIN, seed: 1, firstSequence: 3, count: 2, length: 0 }, 'seq');
    expect(seqs.sequences.map((s) => [s.sequence, s.tasks.length])).toEqual([[3, 7], [4, 7]]);
    const scales = seqs.sequences[0].tasks.map((t) => (t.params as { scale: number }).scale);
    expect(scales[0]).toBeCloseTo(1, 6);
    expect(scales[6]).toBeCloseTo(0, 6);
    const pairs = await unaryCall(peers.taskSampler, peers.taskSampler.sampleTaskPairs, { family: 'nonstationary-ant', familyConfig: {}, split: Split.SPLIT_TRAIN, seed: 1, startIndex: 18, count: 3 }, 'pairs');
    // Pair 18 = sequence 3 (6 pairs per sequence), positions 0 -> 1: the same tasks as above.
    expect(pairs.pairs[0].current?.id).toBe(seqs.sequences[0].tasks[0].id);
    expect(pairs.pairs[0].next?.id).toBe(seqs.sequences[0].tasks[1].id);
    expect(pairs.pairs[2].next?.id).toBe(seqs.sequences[0].tasks[3].id);
    expect(await rejection(unaryCall(peers.taskSampler, peers.taskSampler.sampleTaskPairs, { family: 'sinusoid', familyConfig: {}, split: Split.SPLIT_TRAIN, seed: 1, startIndex: 0, count: 1 }, 'pairs', { retries: 0 }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/family/) });
  });
});
