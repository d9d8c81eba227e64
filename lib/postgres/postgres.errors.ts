import { StoreUnavailableError } from '../scheduler.errors.js';

export { StoreUnavailableError } from '../scheduler.errors.js';

/** SQLSTATEs and socket codes that mean "the server went away", not "the statement was wrong". */
const CONNECTION_CODES = new Set([
  '57P01', // admin_shutdown (also pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, in recovery)
  '53300', // too_many_connections
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

// "Query read timeout" is pg's client-side `query_timeout`: no answer came, so the socket may be half-open.
const CONNECTION_MESSAGES =
  /connection terminated|connection error|not queryable|timeout exceeded when trying to connect|terminating connection|query read timeout/i;

/**
 * Whether an error means the database could not be reached (worth waiting
 * and trying again) rather than a problem with the statement. Looks through
 * TypeORM's `QueryFailedError.driverError` and Node's `AggregateError`.
 * @internal
 */
export function isConnectionError(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false;
  if (error instanceof StoreUnavailableError) return true;
  const { code, message, driverError, errors } = error as { code?: unknown; message?: unknown; driverError?: unknown; errors?: unknown };
  if (typeof code === 'string' && (code.startsWith('08') || CONNECTION_CODES.has(code))) return true;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return false;
  if (typeof message === 'string' && CONNECTION_MESSAGES.test(message)) return true;
  if (driverError !== undefined && isConnectionError(driverError, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((inner) => isConnectionError(inner, depth + 1));
}

/**
 * SQLSTATEs of a statement the server cancelled or rolled back as a whole
 * for a reason of the moment, not of the statement: sent again later it can
 * succeed, and it wrote nothing (unlike a dropped connection, whose last
 * statement may have committed).
 */
const TRANSIENT_CODES = new Set([
  '57014', // query_canceled: statement_timeout (a lock wait behind another session), or a cancel
  '55P03', // lock_not_available: lock_timeout
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/**
 * Whether the server refused a statement for a reason of the moment (a lock
 * wait past its timeout, a deadlock): worth sending again, and known to have
 * written nothing.
 * @internal
 */
export function isTransientError(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false;
  const { code, driverError } = error as { code?: unknown; driverError?: unknown };
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  return driverError !== undefined && isTransientError(driverError, depth + 1);
}

/**
 * A hint to append to a log line about a connection that could not be
 * opened: when the server or the role refused it for its connection limit,
 * what the scheduler needs.
 * @internal
 */
export function connectionHint(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== '53300' && !(typeof message === 'string' && /too many connections/i.test(message))) return '';
  return ': a node uses up to store.poolSize + 3 connections (the pool, LISTEN, the leader lease, heartbeats); raise the connection limit or lower poolSize';
}
