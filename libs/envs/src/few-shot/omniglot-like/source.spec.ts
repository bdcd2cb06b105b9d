import { sampleTasks, type Task } from '@chameleon/tasks';
import { OmniglotLikeFamily, omniglotLikeConfig } from '@chameleon/tasks/src/few-shot';
import { describeSupervisedSourceContract } from '../../supervised/contract';
import { localDataFn } from '../../supervised/source';
import { omniglotLikeSource, omniglotLikeSourcePlugin } from './source';

const family = new OmniglotLikeFamily();
const tasks = (n: number) => sampleTasks(family, { split: 'train', seed: 1, start: 0, count: n });

describeSupervisedSourceContract('omniglot-like (in process)', () => localDataFn(omniglotLikeSource()), tasks, { input: [28, 28, 1], target: [] });

const image = (data: Float32Array, i: number) => data.subarray(i * 784, (i + 1) * 784);
const correlation = (a: Float32Array, b: Float32Array) => {
  const mean = (x: Float32Array) => x.reduce((s, v) => s + v, 0) / x.length;
  const [ma, mb] = [mean(a), mean(b)];
  let [ab, aa, bb] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb + 1e-12);
};

describe('omniglot-like source', () => {
  const source = omniglotLikeSource();

  it('draws N-way K-shot episodes: K examples of each label, int32 labels, pixels in [0, 1] with real strokes', () => {
    const b = source.sample(tasks(3), { supportSize: 5 * 2, querySize: 5 * 3, seed: 1 });
    expect(b.supportY.dtype).toBe('int32');
    for (let t = 0; t < 3; t++) {
      const counts = [0, 0, 0, 0, 0];
      for (let j = 0; j < 10; j++) counts[b.supportY.data[t * 10 + j]]++;
      expect(counts).toEqual([2, 2, 2, 2, 2]);
    }
    const px = Array.from(b.supportX.data);
    expect(Math.min(...px)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...px)).toBeLessThanOrEqual(1);
    for (let i = 0; i < 30; i++) {
      const ink = image(b.supportX.data as Float32Array, i).reduce((s, v) => s + v, 0);
      expect(ink).toBeGreaterThan(15); // a few strokes of 1-2 px over 28 px
      expect(ink).toBeLessThan(400);
    }
  });

  it('shuffles the order of examples (labels are not in blocks)', () => {
    const b = source.sample(tasks(1), { supportSize: 20, querySize: 0, seed: 2 });
    const labels = Array.from(b.supportY.data);
    expect(labels).not.toEqual([...labels].sort((x, y) => x - y));
  });

  it('instances of a class resemble each other more than other classes, and support and query instances differ', () => {
    const [t] = tasks(1);
    const b = source.sample([t], { supportSize: 50, querySize: 50, seed: 3 });
    const x = b.supportX.data as Float32Array;
    const y = b.supportY.data;
    let [within, between, nw, nb] = [0, 0, 0, 0];
    for (let i = 0; i < 50; i++) {
      for (let j = i + 1; j < 50; j++) {
        const c = correlation(image(x, i), image(x, j));
        if (y[i] === y[j]) [within, nw] = [within + c, nw + 1];
        else [between, nb] = [between + c, nb + 1];
      }
    }
    expect(within / nw).toBeGreaterThan(between / nb + 0.1);
    const q = b.queryX.data as Float32Array;
    for (let i = 0; i < 50; i++) for (let j = 0; j < 50; j++) expect(correlation(image(x, i), image(q, j))).toBeLessThan(0.9999);
  });

  it('renders instance k of a class identically in any task and episode', () => {
    const one: Task = { ...tasks(1)[0] };
    const p = one.params as { classes: unknown[] };
    const twin: Task = { ...one, id: 'other-task', params: { ...one.params, classes: [p.classes[1], p.classes[0], ...p.classes.slice(2)] } };
    const a = source.sample([one], { supportSize: 100, querySize: 0, seed: 4 });
    const b = source.sample([twin], { supportSize: 100, querySize: 0, seed: 5 });
    // Same class, different episodes: every image of class 0 in `a` appears among class 1 in `b` (20 instances, 20 drawn).
    const imgs = (bt: typeof a, label: number) => Array.from({ length: 100 }, (_, i) => i).filter((i) => bt.supportY.data[i] === label).map((i) => Array.from(image(bt.supportX.data as Float32Array, i)).join());
    expect(new Set(imgs(a, 0))).toEqual(new Set(imgs(b, 1)));
  });

  it('generates a 20-way 5-shot episode with 15 queries per class, every class exactly 5 + 15 times', () => {
    // Speed is measured by `npm run bench -- few-shot`, not here.
    const f = new OmniglotLikeFamily(omniglotLikeConfig.parse({ ways: 20 }));
    const [t] = sampleTasks(f, { split: 'train', seed: 9, start: 0, count: 1 });
    const ep = source.sample([t], { supportSize: 100, querySize: 300, seed: 1 });
    expect(ep.supportX.shape.slice(-3)).toEqual([28, 28, 1]);
    const counts = (y: ArrayLike<number>) => {
      const c = new Array<number>(20).fill(0);
      for (let i = 0; i < y.length; i++) c[y[i]]++;
      return c;
    };
    expect(counts(ep.supportY.data as ArrayLike<number>)).toEqual(new Array(20).fill(5));
    expect(counts(ep.queryY.data as ArrayLike<number>)).toEqual(new Array(20).fill(15));
  });

  it('rejects episodes larger than the instances of a class, fixed query inputs and foreign params', () => {
    expect(() => source.sample(tasks(1), { supportSize: 5 * 15, querySize: 5 * 10, seed: 0 })).toThrow(/support_size|instances/);
    expect(() => source.sample(tasks(1), { supportSize: 5, querySize: 5, seed: 0, queryInputs: { dtype: 'float32', shape: [1, 28, 28, 1], data: new Float32Array(784) } })).toThrow(/query_inputs/);
    const bad = { ...tasks(1)[0], params: { ...tasks(1)[0].params, classes: [{ alphabet: 9999, character: 0, rotation: 0 }, { alphabet: 0, character: 0, rotation: 0 }], ways: 2 } };
    expect(() => source.sample([bad], { supportSize: 2, querySize: 2, seed: 0 })).toThrow(/tasks\[0\]\.params\.classes\[0\]/);
    expect(omniglotLikeSourcePlugin.kind).toBe('environment');
    expect(omniglotLikeSourcePlugin.name).toBe(family.name);
  });
});
