/** Human-readable lines go to stderr, so stdout stays clean for --json and machine-readable events. */
export const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** One machine-readable event per line on stdout (e.g. the address a server listens on). */
export const emit = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};
