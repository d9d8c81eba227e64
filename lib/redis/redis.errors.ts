import { StoreUnavailableError } from '../scheduler.errors.js';

/**
 * What ioredis (5.x, 6.x) rejects a command with when the connection failed,
 * not the command: the client ended ("Connection is closed."), its retries
 * for this command ran out (MaxRetriesPerRequestError), the offline queue is
 * off, a pipeline was cut, `commandTimeout` passed, or a Cluster has no node.
 */
const CONNECTION_MESSAGES =
  /^(Connection is closed\.|Stream isn't writeable|Command aborted due to connection close|Command timed out|Socket timeout|Cluster is disconnect|Cluster isn't ready|None of startup nodes is available|Node is disconnected|Failed to refresh slots cache)/;
const CONNECTION_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/**
 * Whether a Redis call failed because the server could not be reached (worth
 * waiting and sending again); such a call may or may not have run. A reply of
 * the server (a script error, NOSCRIPT, OOM) is not one.
 * @internal
 */
export function isRedisConnectionError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
  if (typeof name === 'string' && CONNECTION_NAMES.has(name)) return true;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.test(message);
}

/**
 * Error replies of a server that refused a command for a reason of the
 * moment, before running it: loading its data after a restart, busy with a
 * long script, a replica during a failover (a script's first write fails, so
 * it wrote nothing), a Cluster slot moving, or out of memory (`maxmemory`
 * reached under `noeviction`: Redis refuses a script's write only while the
 * script has written nothing, and lets it finish once it has, so an `OOM`
 * reply too means that nothing was written).
 */
const BUSY_REPLIES = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY|CLUSTERDOWN|OOM) /;

/**
 * Whether the server refused a call for the moment (see BUSY_REPLIES): worth
 * sending again, and known to have written nothing. Also true of the
 * StoreUnavailableError such a reply is turned into (see {@link refusedByRedis}).
 * @internal
 */
export function isRedisBusyReply(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && BUSY_REPLIES.test(message)) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return error instanceof StoreUnavailableError && cause !== error && isRedisBusyReply(cause);
}

/**
 * A reply of a server that refused a call for the moment (see BUSY_REPLIES)
 * as the typed error callers get, its reply as the `cause`; `null` for any
 * other error. Nothing was written: the call may be made again later.
 * @internal
 */
export function refusedByRedis(error: unknown): StoreUnavailableError | null {
  if (error instanceof StoreUnavailableError) return null;
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string' || !BUSY_REPLIES.test(message)) return null;
  const detail = message.startsWith('OOM ')
    ? "Redis refused the write: it is out of memory (used memory > 'maxmemory', maxmemory-policy noeviction). Nothing was written; raise maxmemory or free memory, then try again"
    : `Redis refused the call for the moment (${message.split(' ', 1)[0]}); nothing was written, try again`;
  return new StoreUnavailableError(detail, { cause: error });
}
