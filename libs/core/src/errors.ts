/**
 * Typed errors shared by every library. Domain code throws these; the transport edge
 * maps `code` to a gRPC status, so the message must tell a person what to change.
 *
 * @example
 *   throw invalidArgument('support_size', 'must be at least 1, got 0');
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'INTERNAL';

export class ChameleonError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The request field or config path at fault, when there is one. */
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'ChameleonError';
  }
}

export const invalidArgument = (field: string, message: string) =>
  new ChameleonError('INVALID_ARGUMENT', message, field);
export const notFound = (message: string, field?: string) => new ChameleonError('NOT_FOUND', message, field);
export const alreadyExists = (message: string) => new ChameleonError('ALREADY_EXISTS', message);
export const failedPrecondition = (message: string) => new ChameleonError('FAILED_PRECONDITION', message);
export const resourceExhausted = (field: string, message: string) =>
  new ChameleonError('RESOURCE_EXHAUSTED', message, field);
export const unavailable = (message: string) => new ChameleonError('UNAVAILABLE', message);
export const deadlineExceeded = (message: string) => new ChameleonError('DEADLINE_EXCEEDED', message);
export const cancelled = (message: string) => new ChameleonError('CANCELLED', message);

export const isChameleonError = (e: unknown): e is ChameleonError => e instanceof ChameleonError;

/** Asserts a condition about a request field; throws INVALID_ARGUMENT naming the field. */
export function check(condition: unknown, field: string, message: string): asserts condition {
  if (!condition) throw invalidArgument(field, message);
}
