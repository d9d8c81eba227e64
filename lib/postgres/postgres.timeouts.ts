import type pg from 'pg';
import { parseDuration, type Duration } from '../common/duration.js';
import { SchedulerConfigError } from '../scheduler.errors.js';

/**
 * Timeouts and keepalive of the scheduler's PostgreSQL connections (see
 * docs/postgres-connections.md). On each connection the server's
 * `statement_timeout` fires first, so a statement that is merely slow fails
 * with an answer and the connection is kept; the client's own bound fires
 * only when no answer comes at all (a dead or half-open socket), and then
 * the connection is dropped and opened again.
 * @publicApi
 */
export interface PostgresTimeoutOptions {
  /**
   * Longest a statement on the pool may run: claims, inserts (`enqueueMany`
   * is one statement), acks and reads. Sent as `statement_timeout` on the
   * connections the scheduler opens for `url`; the client gives up 5 s
   * later (or twice the timeout, if that is sooner) and drops that connection. A borrowed `dataSource` keeps its
   * owner's pool settings (set `extra.statement_timeout` /
   * `extra.query_timeout` there); the scheduler's dedicated connections get
   * their own bounds either way.
   * @default '30s'
   */
  statementTimeout?: Duration;
  /**
   * Longest a heartbeat waits for its answer on the heartbeat connection
   * before that connection is dropped and the heartbeat is sent once more on
   * a new one (the server cancels the statement a fifth earlier). Keep it well
   * under `lifeline.heartbeat` and `lifeline.rescueAfter`.
   * @default '5s'
   */
  heartbeatTimeout?: Duration;
  /**
   * Longest one statement of the boot migration may run, the wait for
   * another node's migration lock included (`SET LOCAL statement_timeout`,
   * so it applies on a borrowed pool too).
   * @default '10m'
   */
  migrationTimeout?: Duration;
  /**
   * Idle time before TCP keepalive probes start on every connection the
   * scheduler opens; the operating system's probe interval and count decide
   * when a silent peer is given up (Linux: 9 probes 75 s apart). It notices
   * a vanished host on an idle connection; a statement that waits for an
   * answer is bounded by the timeouts above.
   * @default '10s'
   */
  keepAliveDelay?: Duration;
}

/**
 * The bounds of one connection, in ms.
 * @publicApi
 */
export interface ConnectionBounds {
  /** Sent as `statement_timeout`: the server cancels a statement that runs longer. */
  statementTimeout: number;
  /** The client gives up on a statement that has no answer after this (pg's `query_timeout`; on the pool's own connections, a socket timeout: see `watchForAnswers`). */
  queryTimeout: number;
  /** A connection attempt gives up after this. */
  connectTimeout: number;
}

/**
 * {@link PostgresTimeoutOptions} in ms, validated.
 * @publicApi
 */
export interface PostgresTimeouts {
  /** Ordinary statements on the pool. */
  pool: ConnectionBounds;
  /** The heartbeat connection. */
  heartbeat: ConnectionBounds;
  /** `statement_timeout` of the boot migration's transaction. */
  migration: number;
  keepAliveDelay: number;
}

/**
 * A connection attempt to an unreachable host gives up after this, so start-up and retries keep moving.
 * @internal
 */
export const CONNECT_TIMEOUT_MS = 10_000;
/** How much longer than the server's bound the client waits (at most), so the server's answer normally comes first. */
const CLIENT_GRACE_MS = 5_000;
/**
 * A transaction of ours left idle (a frozen node) releases its locks after this.
 * @internal
 */
export const IDLE_IN_TRANSACTION_MS = 60_000;

/**
 * @default values of {@link PostgresTimeoutOptions}, in ms.
 * @internal
 */
export const TIMEOUT_DEFAULTS = {
  statementTimeout: 30_000,
  heartbeatTimeout: 5_000,
  migrationTimeout: 600_000,
  keepAliveDelay: 10_000,
} as const;

/**
 * Reads and checks the timeout options.
 * @throws SchedulerConfigError naming the option at fault.
 * @internal
 */
export function resolveTimeouts(options: PostgresTimeoutOptions): PostgresTimeouts {
  const read = (key: keyof PostgresTimeoutOptions, min: number): number => {
    const value = options[key];
    let ms: number;
    try {
      ms = value === undefined ? TIMEOUT_DEFAULTS[key] : parseDuration(value);
    } catch (error) {
      throw new SchedulerConfigError('SchedulerModule', `store.${key}`, (error as Error).message);
    }
    // setTimeout fires at once for anything above 2^31 - 1 ms.
    if (ms < min || clientBound(ms) > 2 ** 31 - 1) {
      throw new SchedulerConfigError('SchedulerModule', `store.${key}`, `must be a duration from ${min} ms to 24 days`);
    }
    return Math.ceil(ms);
  };
  const statement = read('statementTimeout', 100);
  const heartbeat = read('heartbeatTimeout', 100);
  return {
    pool: { statementTimeout: statement, queryTimeout: clientBound(statement), connectTimeout: CONNECT_TIMEOUT_MS },
    heartbeat: boundsWithin(heartbeat),
    migration: read('migrationTimeout', 100),
    keepAliveDelay: read('keepAliveDelay', 1_000),
  };
}

/**
 * The client's bound for a statement the server cancels after `statementTimeout`: a little later, so the server's answer comes first.
 * @internal
 */
export function clientBound(statementTimeout: number): number {
  return statementTimeout + Math.min(statementTimeout, CLIENT_GRACE_MS);
}

/**
 * Bounds for a dedicated connection whose statements must fail within
 * `limit` (the heartbeat, the leader lease): the client gives up at `limit`,
 * the server a fifth earlier (a lock wait is cancelled with an answer, and the
 * connection is kept), and a new connection may take `limit` to open.
 * @internal
 */
export function boundsWithin(limit: number): ConnectionBounds {
  const ms = Math.max(2, Math.floor(limit));
  return { statementTimeout: Math.floor(ms * 0.8), queryTimeout: ms, connectTimeout: Math.min(ms, CONNECT_TIMEOUT_MS) };
}

/**
 * The pg settings that carry `bounds` and keepalive (merged over credentials; ours win).
 * @internal
 */
export function boundSettings(bounds: ConnectionBounds, keepAliveDelay: number): pg.ClientConfig {
  return {
    keepAlive: true,
    keepAliveInitialDelayMillis: keepAliveDelay,
    statement_timeout: bounds.statementTimeout,
    query_timeout: bounds.queryTimeout,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    connectionTimeoutMillis: bounds.connectTimeout,
  };
}
