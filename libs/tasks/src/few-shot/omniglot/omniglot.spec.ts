import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeTaskSourceContract } from '../../contract';
import { localTaskSource, sampleTasks } from '../../sampler';
import { OmniglotFamily, omniglotConfig, omniglotFamilyPlugin, type OmniglotParams } from './omniglot';

/** The Omniglot folder layout with empty files: 2 x 3 alphabets x 4 characters. */
function fixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'omniglot-tasks-'));
  for (const folder of ['images_background', 'images_evaluation']) {
    for (let a = 0; a < 3; a++) {
      for (let c = 1; c <= 4; c++) {
        const dir = join(root, folder, `${folder === 'images_background' ? 'Latin' : 'Kanji'}_${a}`, `character${String(c).padStart(2, '0')}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${c}_01.png`), '');
      }
    }
  }
  return root;
}

const root = fixture();
afterAll(() => rmSync(root, { recursive: true, force: true }));

const family = (config: Record<string, unknown> = {}) => new OmniglotFamily(omniglotConfig.parse({ root, split: { by: 'characters', train: 12, validation: 4 }, ...config }));

describeTaskSourceContract('omniglot (local, fixture folders)', () => localTaskSource(family()));

const params = (f: OmniglotFamily, split: 'train' | 'validation' | 'test', count: number) =>
  sampleTasks(f, { split, seed: 1, start: 0, count }).map((t) => t.params as unknown as OmniglotParams);

describe('omniglot task family', () => {
  it('splits characters (Santoro/Finn protocol): train, validation and test are disjoint, rotations are classes', () => {
    const f = family();
    const pools = f.classPools();
    expect(pools.train).toHaveLength(12 * 4);
    expect(pools.validation).toHaveLength(4 * 4);
    expect(pools.test).toHaveLength(8 * 4);
    const chars = (s: 'train' | 'validation' | 'test') => new Set(pools[s].map((c) => c.character));
    for (const c of chars('test')) expect(chars('train').has(c) || chars('validation').has(c)).toBe(false);
    const [p] = params(f, 'train', 1);
    expect(p.root).toBe(root);
    expect(p.classes).toHaveLength(5);
    expect(p.classes[0].character).toMatch(/^images_(background|evaluation)\/[^/]+\/character\d\d$/);
  });

  it('defaults to 1100 train + 100 validation characters: the first 1200 of the shuffled 1623 are for meta-training', () => {
    const c = omniglotConfig.parse({});
    expect(c.split).toEqual({ by: 'characters', train: 1100, validation: 100, seed: 1 });
    expect(c.rotations).toEqual([0, 90, 180, 270]);
  });

  it('splits by alphabet: background for training (last alphabets for validation), evaluation for test', () => {
    const f = family({ split: { by: 'alphabets', validationAlphabets: 1 } });
    const pools = f.classPools();
    expect(pools.train.every((c) => c.character.startsWith('images_background/') && !c.character.includes('Latin_2'))).toBe(true);
    expect(pools.validation.every((c) => c.character.startsWith('images_background/Latin_2/'))).toBe(true);
    expect(pools.test.every((c) => c.character.startsWith('images_evaluation/'))).toBe(true);
  });

  it('non-mutually-exclusive: each class always carries the same label', () => {
    const f = family({ mutuallyExclusive: false });
    const seen = new Map<string, number>();
    for (const p of params(f, 'train', 200)) {
      p.classes.forEach((c, l) => {
        const k = `${c.character}@${c.rotation}`;
        expect(seen.get(k) ?? l).toBe(l);
        seen.set(k, l);
      });
    }
  });

  it('reads the folder lazily and names root when it is missing', () => {
    const missing = new OmniglotFamily(omniglotConfig.parse({ root: join(root, 'nope') }));
    expect(() => missing.draw('train', 1, 0)).toThrow(expect.objectContaining({ field: 'root' }));
    expect(() => family({ split: { by: 'characters', train: 30, validation: 0 } }).draw('train', 1, 0)).toThrow(/cannot make/);
    expect(omniglotFamilyPlugin.create(omniglotFamilyPlugin.configSchema.parse({}))).toBeInstanceOf(OmniglotFamily);
  });
});
