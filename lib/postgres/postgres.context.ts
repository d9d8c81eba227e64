import type pg from 'pg';

/**
 * What the PostgreSQL store, peer and notifier share: the pool, a way to
 * open dedicated connections, and the validated, quoted names of the
 * scheduler's tables.
 */
export interface PostgresContext {
  /** The pool for ordinary statements (the scheduler's own, or the app DataSource's). */
  readonly pool: pg.Pool;
  /**
   * Opens a new dedicated connection outside the pool (LISTEN, the leader
   * lease, heartbeats), so a busy pool never starves them. The caller ends it.
   */
  connect(): Promise<pg.Client>;
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
