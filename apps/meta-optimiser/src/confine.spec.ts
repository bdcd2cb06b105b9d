import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Peers } from '@chameleon/transport';
import type { PluginRegistry } from '@chameleon/plugins';
import { confinedPath, MetaOptimiser } from './service';

const root = mkdtempSync(join(tmpdir(), 'mo-confine-'));
const runs = join(root, 'runs');
mkdirSync(runs);
mkdirSync(join(root, 'elsewhere'));
symlinkSync(join(root, 'elsewhere'), join(runs, 'escape'));

const code = (f: () => unknown) => {
  try {
    f();
    return 'OK';
  } catch (e) {
    return String((e as { code: unknown }).code);
  }
};

describe('confinedPath (StartRun output_dir / resume_from of a served meta-optimiser)', () => {
  it('resolves relative paths against the runs folder and accepts paths inside it', () => {
    expect(confinedPath(runs, 'my-run', 'output_dir')).toBe(join(runs, 'my-run'));
    expect(confinedPath(runs, join(runs, 'a', 'b'), 'output_dir')).toBe(join(runs, 'a', 'b'));
    expect(confinedPath(runs, 'a/../b', 'output_dir')).toBe(join(runs, 'b'));
  });

  it('refuses the folder itself, parents, absolute paths elsewhere and symlinks leading out', () => {
    for (const p of ['.', '..', '../elsewhere', '/etc/cron.d', join(root, 'elsewhere'), 'escape/x', 'escape', 'a/'.repeat(50_000), 'run\0x']) {
      expect([p.slice(0, 40), code(() => confinedPath(runs, p, 'output_dir'))]).toEqual([p.slice(0, 40), 'INVALID_ARGUMENT']);
    }
  });

  it('StartRun: INVALID_ARGUMENT naming the field, before anything is read or written', async () => {
    const mo = new MetaOptimiser({ peers: {} as Peers, registry: {} as PluginRegistry, runsDir: runs, confineToRunsDir: true });
    await expect(mo.start({ runId: '', config: { kind: 'supervised' }, outputDir: '/tmp/outside', resumeFrom: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('output_dir') });
    await expect(mo.start({ runId: '', config: {}, outputDir: '', resumeFrom: '/etc/passwd' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('resume_from') });
    // Unconfined (the embedded meta-optimiser): the path is taken as given, so the failure is about the file.
    const open = new MetaOptimiser({ peers: {} as Peers, registry: {} as PluginRegistry, runsDir: runs });
    await expect(open.start({ runId: '', config: {}, outputDir: '', resumeFrom: join(root, 'elsewhere', 'missing.ckpt') })).rejects.toMatchObject({ message: expect.not.stringContaining('runs folder') });
  });
});
