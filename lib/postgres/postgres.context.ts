import type pg from 'pg';
import type { ConnectionBounds, PostgresTimeouts } from './postgres.timeouts.js';

/**
 * What the PostgreSQL store, peer and notifier share: the pool, a way to
 * open dedicated connections, and the validated, quoted names of the
 * scheduler's tables.
 * @publicApi
 */
export interface PostgresContext {
  /** The pool for ordinary statements (the scheduler's own, or the app DataSource's). */
  readonly pool: pg.Pool;
  /**
   * Opens a new dedicated connection outside the pool (LISTEN, the leader
   * lease, heartbeats), so a busy pool never starves them. It has TCP
   * keepalive and `bounds` (default: the pool's statement bounds). The
   * caller ends it, and drops it when a statement times out (the socket may
   * be half-open).
   */
  connect(bounds?: ConnectionBounds): Promise<pg.Client>;
  /** The validated timeouts (`store.statementTimeout` and the others). */
  readonly timeouts: PostgresTimeouts;
  /** The validated schema name (unquoted). */
  readonly schema: string;
  /** The validated table prefix (unquoted). */
  readonly prefix: string;
  /** The quoted, schema-qualified name of one of our tables: `table('jobs')` → `"public"."scheduler_jobs"`. */
  table(name: string): string;
  /** The NOTIFY/LISTEN channel name (unquoted; pass it as a bound parameter to `pg_notify`, quote it for LISTEN). */
  readonly channel: string;
  /** This node's name. */
  readonly node: string;
  /** Closes the pool if the scheduler opened it (never the app's DataSource). */
  close(): Promise<void>;
}
