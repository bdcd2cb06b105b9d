import { status, type ServiceError, Metadata } from '@grpc/grpc-js';
import { ChameleonError, type ErrorCode } from '@chameleon/core';

const TO_STATUS: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  CANCELLED: status.CANCELLED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  INTERNAL: status.INTERNAL,
};

const FROM_STATUS = new Map<number, ErrorCode>(Object.entries(TO_STATUS).map(([k, v]) => [v, k as ErrorCode]));

/** A thrown value as a gRPC error: typed errors keep their code, anything else is INTERNAL. */
export function toServiceError(e: unknown, onInternal?: (e: unknown) => void): Partial<ServiceError> {
  if (e instanceof ChameleonError) return { code: TO_STATUS[e.code], details: e.message, metadata: new Metadata() };
  const err = e as Error;
  // tfjs and other libraries throw plain Errors for shape problems we failed to catch earlier.
  onInternal?.(e);
  return { code: status.INTERNAL, details: `internal error: ${err?.message ?? String(e)}`, metadata: new Metadata() };
}

/** A gRPC client error as a typed error with the server's message. */
export function fromServiceError(e: unknown, context: string): ChameleonError {
  const err = e as Partial<ServiceError>;
  if (typeof err?.code === 'number') {
    const code = FROM_STATUS.get(err.code) ?? (err.code === status.UNKNOWN ? 'INTERNAL' : 'INTERNAL');
    return new ChameleonError(code, `${context}: ${err.details || err.message || 'no details'}`);
  }
  if (e instanceof ChameleonError) return e;
  return new ChameleonError('INTERNAL', `${context}: ${(e as Error)?.message ?? String(e)}`);
}

export { status };
