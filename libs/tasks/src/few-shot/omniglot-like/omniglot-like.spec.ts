import { describeTaskSourceContract } from '../../contract';
import { localTaskSource, sampleTasks } from '../../sampler';
import type { SplitName } from '../../task';
import { charactersOf } from './generator';
import { OmniglotLikeFamily, omniglotLikeConfig, omniglotLikeFamilyPlugin, type OmniglotLikeParams } from './omniglot-like';

describeTaskSourceContract('omniglot-like (local)', () => localTaskSource(new OmniglotLikeFamily()));

const classesOf = (family: OmniglotLikeFamily, split: SplitName, count: number, seed = 1) =>
  sampleTasks(family, { split, seed, start: 0, count }).map((t) => (t.params as unknown as OmniglotLikeParams).classes);

const key = (c: { alphabet: number; character: number; rotation: number }) => `${c.alphabet}/${c.character}/${c.rotation}`;

describe('omniglot-like task family', () => {
  const family = new OmniglotLikeFamily(omniglotLikeConfig.parse({ ways: 20 }));

  it('has hundreds of alphabets of 14-40 characters, split 70/10/20% by alphabet, x4 rotations', () => {
    const g = family.config.generator;
    expect(g.alphabets).toBe(300);
    const counts = Array.from({ length: g.alphabets }, (_, a) => charactersOf(g, a));
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(14);
    expect(Math.max(...counts)).toBeLessThanOrEqual(40);
    const total = counts.reduce((a, b) => a + b, 0) * 4;
    const split = (['train', 'validation', 'test'] as const).map((s) => family.classCount(s));
    expect(split.reduce((a, b) => a + b, 0)).toBe(total);
    expect(split[0] / total).toBeGreaterThan(0.6);
    expect(split[2] / total).toBeGreaterThan(0.12);
  });

  it('draws N distinct classes in label order, and splits never share an alphabet', () => {
    const alphabets = (s: SplitName) => new Set(classesOf(family, s, 200).flat().map((c) => c.alphabet));
    const [train, val, test] = [alphabets('train'), alphabets('validation'), alphabets('test')];
    for (const a of test) {
      expect(train.has(a)).toBe(false);
      expect(val.has(a)).toBe(false);
    }
    for (const classes of classesOf(family, 'train', 50)) {
      expect(classes).toHaveLength(20);
      expect(new Set(classes.map(key)).size).toBe(20);
      expect(classes.every((c) => [0, 90, 180, 270].includes(c.rotation))).toBe(true);
    }
  });

  it('mutually exclusive (default): a class gets different labels in different tasks', () => {
    const small = new OmniglotLikeFamily(omniglotLikeConfig.parse({ ways: 5, rotations: [0], generator: { alphabets: 5 } }));
    const labels = new Map<string, Set<number>>();
    for (const classes of classesOf(small, 'train', 400)) classes.forEach((c, l) => labels.set(key(c), (labels.get(key(c)) ?? new Set()).add(l)));
    const multi = [...labels.values()].filter((s) => s.size > 1).length;
    expect(multi / labels.size).toBeGreaterThan(0.9);
  });

  it('non-mutually-exclusive (Yin et al. 2020): every class keeps one label across all tasks, and tasks still vary', () => {
    const nme = new OmniglotLikeFamily(omniglotLikeConfig.parse({ ways: 5, rotations: [0], mutuallyExclusive: false, generator: { alphabets: 5 } }));
    const labels = new Map<string, number>();
    const tasks = classesOf(nme, 'train', 400);
    for (const classes of tasks) {
      classes.forEach((c, l) => {
        expect(labels.get(key(c)) ?? l).toBe(l);
        labels.set(key(c), l);
      });
    }
    expect(new Set(tasks.map((cs) => cs.map(key).join())).size).toBeGreaterThan(300);
    // Every class of the split can appear: the label groups partition the pool.
    expect(labels.size).toBe(nme.classCount('train'));
  });

  it('puts the whole dataset definition in the params (the data source renders from them)', () => {
    const [t] = sampleTasks(family, { split: 'test', seed: 3, start: 0, count: 1 });
    const p = t.params as unknown as OmniglotLikeParams;
    expect(p.dataset).toBe('omniglot-like');
    expect(p.ways).toBe(20);
    expect(p.generator).toEqual(family.config.generator);
  });

  it('is a task-family plugin that validates its config', () => {
    expect(omniglotLikeFamilyPlugin.kind).toBe('task-family');
    expect(omniglotLikeFamilyPlugin.name).toBe('omniglot-like');
    expect(omniglotLikeFamilyPlugin.configSchema.safeParse({ ways: 1 }).success).toBe(false);
    expect(omniglotLikeFamilyPlugin.configSchema.safeParse({ rotations: [45] }).success).toBe(false);
    expect(omniglotLikeFamilyPlugin.configSchema.safeParse({ splits: { train: 0.9, validation: 0.2 } }).success).toBe(false);
    const tiny = new OmniglotLikeFamily(omniglotLikeConfig.parse({ ways: 50, rotations: [0], generator: { alphabets: 3, charactersPerAlphabet: [1, 1] } }));
    expect(() => tiny.draw('test', 1, 0)).toThrow(/ways/);
  });
});
