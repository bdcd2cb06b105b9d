import { createReadStream } from 'node:fs';

/** What a pass over a JSON-lines file saw. Bad lines are skipped, never fatal. */
export interface JsonlStats {
  /** Non-empty lines read. */
  lines: number;
  /** Lines taken as records (parsed to an object, or handled by a shortcut). */
  records: number;
  /** How many lines did not parse (or were not objects). */
  badCount: number;
  /** 1-based numbers of the first bad lines (at most 20), to quote in the report. */
  badLines: number[];
}

export interface JsonlOptions {
  /** Return false to skip a line unparsed (not counted as a record): a cheap text test. */
  prefilter?: (line: string) => boolean;
  /** Return true when the line was fully handled from its text, so it need not be parsed. */
  shortcut?: (line: string, lineNumber: number) => boolean;
}

const MAX_BAD_LINES_KEPT = 20;

/** Yields the lines of a UTF-8 file as it streams (faster than node:readline on long files). */
async function* lines(path: string): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      yield text.slice(start, end);
      start = end + 1;
    }
    rest = text.slice(start);
  }
  if (rest) yield rest;
}

/**
 * Streams a JSON-lines file, calling `visit` for every line that parses to an object. Memory
 * stays flat however long the file is: keep only what you need inside `visit`. A line that
 * fails to parse (a crash mid-write, a stray log line) is counted and skipped.
 *
 * @example
 *   let spans = 0;
 *   const stats = await forEachJsonl('run/traces.jsonl', () => spans++);
 */
export async function forEachJsonl(
  path: string,
  visit: (record: Record<string, unknown>, lineNumber: number) => void,
  options: JsonlOptions = {},
): Promise<JsonlStats> {
  const stats: JsonlStats = { lines: 0, records: 0, badCount: 0, badLines: [] };
  let lineNumber = 0;
  for await (const raw of lines(path)) {
    lineNumber++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    stats.lines++;
    if (options.prefilter && !options.prefilter(line)) continue;
    if (options.shortcut?.(line, lineNumber)) {
      stats.records++;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      stats.badCount++;
      if (stats.badLines.length < MAX_BAD_LINES_KEPT) stats.badLines.push(lineNumber);
      continue;
    }
    stats.records++;
    visit(value as Record<string, unknown>, lineNumber);
  }
  return stats;
}

/** Reads a whole JSON-lines file into memory (skipping bad lines). For small files only. */
export async function readJsonl<T = Record<string, unknown>>(path: string): Promise<{ records: T[]; stats: JsonlStats }> {
  const records: T[] = [];
  const stats = await forEachJsonl(path, (r) => records.push(r as T));
  return { records, stats };
}
