import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from './checkpoint-file';

/** Checkpoint paths arrive in requests (resume_from): hostile ones must fail fast and typed. */
describe('loadCheckpoint on hostile paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chameleon-ckpt-'));
  const codeOf = (path: string) => {
    try {
      loadCheckpoint(path);
    } catch (e) {
      return (e as { code: string }).code;
    }
    return 'OK';
  };

  it('refuses devices and folders without reading them (reading /dev/zero never ends)', () => {
    const t0 = Date.now();
    expect(codeOf('/dev/zero')).toBe('INVALID_ARGUMENT');
    expect(codeOf(dir)).toBe('INVALID_ARGUMENT');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('answers NOT_FOUND for a missing file and FAILED_PRECONDITION for one that is not a checkpoint', () => {
    expect(codeOf(join(dir, 'missing.ckpt'))).toBe('NOT_FOUND');
    writeFileSync(join(dir, 'junk.ckpt'), 'not a checkpoint at all');
    expect(codeOf(join(dir, 'junk.ckpt'))).toBe('FAILED_PRECONDITION');
  });
});
