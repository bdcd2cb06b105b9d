import type { ZodError } from 'zod';
import { invalidArgument, ChameleonError } from './errors';

/**
 * Turns a zod validation error into INVALID_ARGUMENT naming the first bad field, e.g.
 * `config.inner.steps: Too small: expected number to be >=1`.
 */
export function zodToInvalidArgument(error: ZodError, prefix: string): ChameleonError {
  const issues = error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return { path, message: issue.message };
  });
  const first = issues[0];
  const rest = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1).map((i) => i.path).join(', ')})` : '';
  return invalidArgument(first?.path ?? prefix, `${first?.message ?? 'invalid'}${rest}`);
}
