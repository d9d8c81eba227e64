import type pg from 'pg';
import { InvalidArgumentError, SchedulerConfigError } from '../../scheduler.errors.js';
import { quoteIdent } from '../identifiers.js';
import type { PostgresContext } from '../postgres.context.js';
import { clientBound, IDLE_IN_TRANSACTION_MS } from '../postgres.timeouts.js';
import { suspendWatch } from '../postgres.watchdog.js';
import { migrationLockKey, sqlNames, type SqlNames } from '../sql/names.js';
import { MIGRATIONS, type SchedulerMigration } from './index.js';

/**
 * The bookkeeping table: one row per applied migration.
 * @internal
 */
export function migrationsTableSql(n: SqlNames): string {
  return `CREATE TABLE IF NOT EXISTS ${n.migrations} (
    id int PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;
}

/**
 * Records an applied migration ($1 id, $2 name); a no-op when it is already recorded.
 * @internal
 */
export function recordMigrationSql(n: SqlNames): string {
  return `INSERT INTO ${n.migrations} (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`;
}

/**
 * Takes the migration lock of this schema and prefix until the transaction ends ($1 key).
 * @internal
 */
export const MIGRATION_LOCK_SQL = 'SELECT pg_advisory_xact_lock($1::bigint)';

/**
 * Options of {@link migrate}.
 * @internal
 */
export interface MigrateOptions {
  /** The id of the last migration to apply. @default the latest shipped one */
  to?: number;
}

/** The shipped migrations up to and including `to` (all of them without it). */
function migrationsUpTo(to: number | undefined): readonly SchedulerMigration[] {
  if (to === undefined) return MIGRATIONS;
  const last = MIGRATIONS.findIndex((m) => m.id === to);
  if (last < 0) throw new InvalidArgumentError('to', `must be the id of a shipped migration (${MIGRATIONS.map((m) => m.id).join(', ')})`);
  return MIGRATIONS.slice(0, last + 1);
}

/**
 * Applies the pending migrations in ONE transaction under a transaction-scoped
 * advisory lock keyed by schema and prefix. Nodes that boot together queue on
 * the lock; each then finds the schema, the bookkeeping table and the rows of
 * the others, so every migration runs once and nobody sees a half-built
 * schema. The lock is released by COMMIT or ROLLBACK, even if the node dies.
 *
 * `options.to` stops after that migration: a schema then stays on an older
 * layout, as a deployment of an earlier release has it (the upgrade tests
 * build one, fill it and let a store migrate the rest). Migrations already
 * applied beyond it are left alone: this never rolls back.
 *
 * @returns the ids applied by this call.
 * @throws InvalidArgumentError when `options.to` is not the id of a shipped migration.
 * @internal
 */
export async function migrate(pg: PostgresContext, options: MigrateOptions = {}): Promise<number[]> {
  const pending = migrationsUpTo(options.to);
  const n = sqlNames(pg);
  const client = await pg.pool.connect();
  // A checked-out pool client has no `error` listener of the pool's: a
  // connection dropped mid-migration would crash the process. Ours keeps it
  // quiet; the statement in flight rejects, and the caller retries.
  const quiet = (): void => {};
  client.on('error', quiet);
  // The client's own bound sits above the server's, so a slow statement fails
  // with the server's answer and only a silent socket hits the client's.
  const timeout = pg.timeouts.migration;
  const query = (text: string, values?: unknown[]) => client.query({ text, values, query_timeout: clientBound(timeout) } as pg.QueryConfig);
  // The pool's shorter bound would cut a wait for another node's migration lock.
  const restoreWatch = suspendWatch(client);
  let failure: Error | undefined;
  try {
    await query('BEGIN');
    // SET LOCAL: ours until COMMIT, even on a borrowed pool's connection.
    await query(`SET LOCAL statement_timeout = ${timeout}`);
    await query(`SET LOCAL idle_in_transaction_session_timeout = ${IDLE_IN_TRANSACTION_MS}`);
    await query(MIGRATION_LOCK_SQL, [migrationLockKey(pg.schema, pg.prefix)]);
    // CREATE SCHEMA needs the CREATE privilege on the database even with IF NOT
    // EXISTS; asking first lets a role without it use a schema made for it.
    // Two prefixes may create one schema at once: that takes the schema's lock.
    const schemaExists = 'SELECT 1 FROM pg_namespace WHERE nspname = $1';
    if ((await query(schemaExists, [pg.schema])).rowCount === 0) {
      await query(MIGRATION_LOCK_SQL, [migrationLockKey(pg.schema)]);
      await query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(pg.schema)}`);
    }
    await query(migrationsTableSql(n));
    const done = new Set((await query(`SELECT id FROM ${n.migrations}`)).rows.map((row: { id: number }) => Number(row.id)));
    const applied: number[] = [];
    for (const migration of pending) {
      if (done.has(migration.id)) continue;
      for (const statement of migration.up(n)) await query(statement);
      await query(recordMigrationSql(n), [migration.id, migration.name]);
      applied.push(migration.id);
    }
    await query('COMMIT');
    return applied;
  } catch (error) {
    failure = error as Error;
    await query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', quiet);
    restoreWatch();
    // A connection that failed mid-transaction is not reused.
    client.release(failure);
  }
}

/**
 * For `migrate: false`: checks that every shipped migration was applied (by
 * `createSchedulerMigrations` or an earlier start).
 * @throws SchedulerConfigError naming `store.migrate` when one is missing.
 * @internal
 */
export async function assertMigrated(pg: PostgresContext): Promise<void> {
  const n = sqlNames(pg);
  const table = await pg.pool.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [n.migrations]);
  const ids = new Set<number>();
  if (table.rows[0]?.found) {
    for (const row of (await pg.pool.query<{ id: number }>(`SELECT id FROM ${n.migrations}`)).rows) ids.add(Number(row.id));
  }
  const missing = MIGRATIONS.filter((m) => !ids.has(m.id)).map((m) => `${m.id}-${m.name}`);
  if (missing.length > 0) {
    throw new SchedulerConfigError(
      'SchedulerModule',
      'store.migrate',
      `migrate is false but ${pg.schema}.${pg.prefix}migrations lacks ${missing.join(', ')}: run createSchedulerMigrations() in your TypeORM migrations, or set migrate: true`,
    );
  }
}
