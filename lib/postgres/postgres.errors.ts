import { SchedulerConfigError, StoreUnavailableError } from '../scheduler.errors.js';

export { StoreUnavailableError } from '../scheduler.errors.js';

/** SQLSTATEs and socket codes that mean "the server went away", not "the statement was wrong". */
const CONNECTION_CODES = new Set([
  '57P01', // admin_shutdown (also pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, in recovery)
  '57P05', // idle_session_timeout: the server closed a session left idle, before the statement sent on it
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
  // A Unix socket that is not there: no server listens on it (yet).
  'ENOENT',
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
 * Whether the server closed the session for sitting idle
 * (`idle_session_timeout`, 57P05) as the statement reached it: the session
 * was idle, so the statement never ran, and it may be sent again on another
 * connection whatever it writes.
 * @internal
 */
export function isClosedWhileIdle(error: unknown): boolean {
  return hasCode(error, IDLE_CLOSE);
}

const IDLE_CLOSE: ReadonlySet<string> = new Set(['57P05']);

/**
 * Whether a connection error says the connection was closed (by the server,
 * a proxy or a reset) rather than left without an answer (pg's
 * `query_timeout`: a half-open socket, where a new connection would wait as
 * long again).
 * @internal
 */
export function isClosedConnection(error: unknown): boolean {
  return isConnectionError(error) && !(error instanceof Error && /query read timeout/i.test(error.message));
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
export function isTransientError(error: unknown): boolean {
  return hasCode(error, TRANSIENT_CODES);
}

/** Whether the server's SQLSTATE of `error` (or of the driver error a TypeORM error wraps) is one of `codes`. */
function hasCode(error: unknown, codes: ReadonlySet<string>, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false;
  const { code, driverError } = error as { code?: unknown; driverError?: unknown };
  if (typeof code === 'string' && codes.has(code)) return true;
  return driverError !== undefined && hasCode(driverError, codes, depth + 1);
}

/**
 * SQLSTATEs of a write the server refused for a condition of the database,
 * not of the statement: it wrote nothing, and the same statement lands once
 * an operator clears the condition (or a failover completes).
 */
const REFUSED_WRITE_CODES = new Set([
  '25006', // read_only_sql_transaction: a hot standby, or default_transaction_read_only set on the database or role
  '42501', // insufficient_privilege: a privilege on the scheduler's tables revoked
  '53100', // disk_full
  '53200', // out_of_memory
  '53400', // configuration_limit_exceeded
]);

/**
 * Whether the server refused a write for a condition of the database (read
 * only, a privilege revoked, out of disk): known to have written nothing, and
 * worth sending again later, like an acknowledgement during an outage.
 * @internal
 */
export function isRefusedWrite(error: unknown): boolean {
  return hasCode(error, REFUSED_WRITE_CODES);
}

/**
 * Whether a statement was refused because its session is read only. A
 * session reads `default_transaction_read_only` when it opens: one opened
 * while the database was read only stays so after the database is writable
 * again, so a long-lived connection that gets this is replaced.
 * @internal
 */
export function isReadOnlySession(error: unknown): boolean {
  return hasCode(error, READ_ONLY);
}

const READ_ONLY: ReadonlySet<string> = new Set(['25006']);

/** What a caller is told of a write the server refused or cancelled, by SQLSTATE. */
const REFUSALS: Record<string, string> = {
  '25006': 'the database is read only (a hot standby after a failover, or default_transaction_read_only)',
  '42501': 'permission denied',
  '53100': 'the disk is full',
  '53200': 'the server is out of memory',
  '53400': 'a configuration limit was reached',
  '57014': 'the statement was cancelled (statement_timeout, perhaps waiting on a lock another session holds)',
  '55P03': 'a lock it needs is held by another session (lock_timeout)',
  '40001': 'a serialization failure',
  '40P01': 'a deadlock',
};

/**
 * A write the server refused for a condition of the database or cancelled
 * for a reason of the moment (see {@link isRefusedWrite},
 * {@link isTransientError}) as the typed error callers get, the server's
 * error as its `cause`; `null` for any other error. Its transaction rolled
 * back: nothing was written, and the call may be made again.
 * @internal
 */
export function refusedByPostgres(error: unknown): StoreUnavailableError | null {
  if (!isRefusedWrite(error) && !isTransientError(error)) return null;
  const server = ((error as { driverError?: unknown }).driverError ?? error) as { code: string; message?: unknown };
  const detail = `${REFUSALS[server.code] ?? server.code} (${typeof server.message === 'string' ? server.message : server.code})`;
  return new StoreUnavailableError(`PostgreSQL refused the write: ${detail}; nothing was written`, { cause: error });
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

/**
 * A server that refused the login itself (SQLSTATE class 28: no user named,
 * a wrong password, no `pg_hba.conf` entry; 3D000: no such database) as a
 * typed error naming the option that says where to connect: waiting will
 * not fix it. `null` for anything else.
 * @internal
 */
export function refusedLogin(error: unknown, option: string): SchedulerConfigError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(code.startsWith('28') || code === '3D000')) return null;
  const refused = new SchedulerConfigError('SchedulerModule', option, `PostgreSQL refused the connection: ${(error as Error).message} (SQLSTATE ${code})`);
  return Object.assign(refused, { code, cause: error });
}
