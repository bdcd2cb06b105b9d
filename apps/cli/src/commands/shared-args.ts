import { invalidArgument } from '@chameleon/core';

/** An integer flag, validated; undefined when absent. */
export function positiveInt(value: string | undefined, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw invalidArgument(flag, `must be an integer >= ${min}, got ${value}`);
  return n;
}

export function finiteNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw invalidArgument(flag, `must be a number >= 0, got ${value}`);
  return n;
}
