import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachJsonl, readJsonl } from './jsonl';

describe('readJsonl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'report-jsonl-'));

  it('skips corrupt, non-object and blank lines and names the bad ones', async () => {
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, ['{"a":1}', '', '{"a":2', '[1,2]', '42', '{"a":3}\r', '{"a":4}'].join('\n'));
    const { records, stats } = await readJsonl<{ a: number }>(path);
    expect(records.map((r) => r.a)).toEqual([1, 3, 4]);
    expect(stats).toEqual({ lines: 6, records: 3, badCount: 3, badLines: [3, 4, 5] });
  });

  it('does not parse lines the prefilter rejects', async () => {
    const path = join(dir, 'b.jsonl');
    writeFileSync(path, '{"id":"x"}\nnot json but filtered out\n{"id":"x2"}\n');
    const seen: unknown[] = [];
    const stats = await forEachJsonl(path, (r) => seen.push(r['id']), { prefilter: (line) => line.includes('"x') });
    expect(seen).toEqual(['x', 'x2']);
    expect(stats.badCount).toBe(0);
  });

  it('fails on a missing file (the caller decides whether that matters)', async () => {
    await expect(readJsonl(join(dir, 'nope.jsonl'))).rejects.toThrow(/ENOENT/);
  });
});
