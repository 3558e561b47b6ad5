// Errors are classified once, here. Workflows rely on these types: a non-retryable failure
// stops the retry loop at once and reaches the workflow with its message naming host and step.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type FailureTypeName } from '../workflows/api';

// The failure types are the contract with the workflows: one set for both, in workflows/api.ts.
export { FailureType, type FailureTypeName };
/** The former name, kept for activities/provision/ (being split; switch it to FailureType). */
export const ErrorType = FailureType;

export function nonRetryable(type: FailureTypeName, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    details: details === undefined ? [] : [details],
  });
}

export function retryable(type: FailureTypeName, message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: false, cause });
}

// mysql2 error codes / errno that retrying cannot fix.
const AUTH_ERRNOS = new Set([1045, 1044, 1142, 1227, 1370, 1698]);
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_STATEMENT_TIMEOUT',
]);
// 1053 shutdown in progress, 2002/2003/2006/2013 connection, 1927 connection killed, 1969 max_statement_time.
const RETRYABLE_ERRNOS = new Set([1053, 1040, 1205, 1213, 1927, 1969, 2002, 2003, 2006, 2013, 3024]);

/** Turns any error from mysql2 into a classified ApplicationFailure naming host and operation. */
export function classifySqlError(host: string, operation: string, err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const e = err as { code?: string; errno?: number; message?: string; sqlMessage?: string };
  const text = `${operation} on ${host}: ${e.sqlMessage ?? e.message ?? String(err)}`;
  if (e.errno !== undefined && AUTH_ERRNOS.has(e.errno))
    return nonRetryable(FailureType.Authentication, `${text} (check the account and its grants)`);
  if ((e.code && RETRYABLE_CODES.has(e.code)) || (e.errno !== undefined && RETRYABLE_ERRNOS.has(e.errno)))
    return retryable(FailureType.Unreachable, text, err instanceof Error ? err : undefined);
  if (e.errno !== undefined) return nonRetryable(FailureType.SqlError, text);
  // No server errno: a socket-level failure without a known code. Treat as transient.
  return retryable(FailureType.Unreachable, text, err instanceof Error ? err : undefined);
}
