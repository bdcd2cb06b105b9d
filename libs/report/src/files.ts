import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface FileEntry {
  /** Path relative to the run folder, "/"-separated; folders end with "/". */
  path: string;
  bytes: number;
  isDirectory: boolean;
}

/** Entries listed at most, so a folder with thousands of checkpoints stays one screen. */
export const MAX_LISTED_FILES = 200;

/** Lists a run folder two levels deep (checkpoints usually sit one folder down). */
export async function listRunFiles(dir: string, exclude: readonly string[] = [], maxDepth = 2): Promise<{ files: FileEntry[]; more: number }> {
  const files: FileEntry[] = [];
  let more = 0;
  const walk = async (folder: string, depth: number): Promise<void> => {
    const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const full = join(folder, e.name);
      const rel = relative(dir, full).split('\\').join('/');
      if (exclude.includes(rel)) continue;
      if (files.length >= MAX_LISTED_FILES) {
        more++;
        continue;
      }
      if (e.isDirectory()) {
        files.push({ path: `${rel}/`, bytes: 0, isDirectory: true });
        if (depth < maxDepth) await walk(full, depth + 1);
      } else {
        const s = await stat(full).catch(() => undefined);
        files.push({ path: rel, bytes: s?.size ?? 0, isDirectory: false });
      }
    }
  };
  await walk(dir, 1);
  return { files, more };
}
