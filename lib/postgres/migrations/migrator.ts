import { SchedulerConfigError } from '../../scheduler.errors.js';
import { quoteIdent } from '../identifiers.js';
import type { PostgresContext } from '../postgres.context.js';
import { migrationLockKey, sqlNames, type SqlNames } from '../sql/names.js';
import { MIGRATIONS } from './index.js';

/** The bookkeeping table: one row per applied migration. */
export function migrationsTableSql(n: SqlNames): string {
  return `CREATE TABLE IF NOT EXISTS ${n.migrations} (
    id int PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;
}

/** Records an applied migration ($1 id, $2 name); a no-op when it is already recorded. */
export function recordMigrationSql(n: SqlNames): string {
  return `INSERT INTO ${n.migrations} (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`;
}

/** Takes the migration lock of this schema and prefix until the transaction ends ($1 key). */
export const MIGRATION_LOCK_SQL = 'SELECT pg_advisory_xact_lock($1::bigint)';

/**
 * Applies the pending migrations in ONE transaction under a transaction-scoped
 * advisory lock keyed by schema and prefix. Nodes that boot together queue on
 * the lock; each then finds the schema, the bookkeeping table and the rows of
 * the others, so every migration runs once and nobody sees a half-built
 * schema. The lock is released by COMMIT or ROLLBACK, even if the node dies.
 *
 * @returns the ids applied by this call.
 */
export async function migrate(pg: PostgresContext): Promise<number[]> {
  const n = sqlNames(pg);
  const client = await pg.pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query(MIGRATION_LOCK_SQL, [migrationLockKey(pg.schema, pg.prefix)]);
    // CREATE SCHEMA needs the CREATE privilege on the database even with IF NOT
    // EXISTS; asking first lets a role without it use a schema made for it.
    // Two prefixes may create one schema at once: that takes the schema's lock.
    const schemaExists = 'SELECT 1 FROM pg_namespace WHERE nspname = $1';
    if ((await client.query(schemaExists, [pg.schema])).rowCount === 0) {
      await client.query(MIGRATION_LOCK_SQL, [migrationLockKey(pg.schema)]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(pg.schema)}`);
    }
    await client.query(migrationsTableSql(n));
    const done = new Set((await client.query<{ id: number }>(`SELECT id FROM ${n.migrations}`)).rows.map((row) => Number(row.id)));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.id)) continue;
      for (const statement of migration.up(n)) await client.query(statement);
      await client.query(recordMigrationSql(n), [migration.id, migration.name]);
      applied.push(migration.id);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    failure = error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    // A connection that failed mid-transaction is not reused.
    client.release(failure);
  }
}

/**
 * For `migrate: false`: checks that every shipped migration was applied (by
 * `createSchedulerMigrations` or an earlier start).
 * @throws SchedulerConfigError naming `store.migrate` when one is missing.
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
