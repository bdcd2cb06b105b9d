import { escapeHtml, note, section, table } from '../html';
import { formatBytes } from '../format';
import type { RunData } from '../load-run';

/** "Files" section: what the folder holds, what is missing and what could not be read. */
export function filesSection(data: RunData): string {
  const rows = data.files.map((f) => [`<code>${escapeHtml(f.path)}</code>`, f.isDirectory ? '' : formatBytes(f.bytes)]);
  const more = data.moreFiles ? note(`… and ${data.moreFiles} more entries.`) : '';
  const missing = data.missing.map((m) => note(`Missing <code>${escapeHtml(m.file)}</code>: ${escapeHtml(m.without)}.`, 'missing'));
  const problems = data.problems.map((p) => note(escapeHtml(p), 'problem'));
  return section('files', 'Files', `${table([['file', 'size'], ...rows], 'files')}${more}${missing.join('')}${problems.join('')}`);
}
