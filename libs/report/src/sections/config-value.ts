/** Reads a dotted path ("algorithm.name") out of the config, if it is a scalar. */
export function configValue(config: Record<string, unknown>, path: string): string | undefined {
  let v: unknown = config;
  for (const key of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}
