import { SchedulerConfigError } from '../scheduler.errors.js';
import { SQLITE_MIGRATIONS } from './migrations/index.js';
import type { SqliteConnection } from './sqlite.connection.js';

/** Every table the migrations create, from the statements themselves. */
const OWN_TABLES = SQLITE_MIGRATIONS.flatMap((m) => m.up.flatMap((statement) => /^\s*CREATE TABLE (\w+)/.exec(statement)?.[1] ?? []));

/**
 * Applies the pending migrations in one write transaction and records the
 * last one in `PRAGMA user_version`. Why one `BEGIN IMMEDIATE` transaction:
 * processes that open a new file at once queue on the write lock, and each
 * then finds the schema and version of the one before it, so every step
 * runs once and nobody sees a half-built schema.
 *
 * A file the scheduler never migrated (version 0) that already has a table
 * of one of its names is refused before anything changes: likely the app's
 * own database (`dataSource`) with, say, a `jobs` table of its own.
 * @returns the ids applied by this call.
 * @throws SchedulerConfigError when the file was migrated by a newer release, or its tables' names are taken.
 * @internal
 */
export function migrateSqlite(sqlite: SqliteConnection): Promise<number[]> {
  return sqlite.write(() => {
    const version = Number(sqlite.db.pragma('user_version', { simple: true }));
    const latest = SQLITE_MIGRATIONS.at(-1)?.id ?? 0;
    if (version > latest) {
      throw new SchedulerConfigError(
        'SchedulerModule',
        sqlite.option,
        `${sqlite.path} has schema version ${version} (PRAGMA user_version), newer than this release knows (${latest}): upgrade nestjs-scheduler`,
      );
    }
    if (version === 0) refuseTakenNames(sqlite);
    const applied: number[] = [];
    for (const migration of SQLITE_MIGRATIONS) {
      if (migration.id <= version) continue;
      for (const statement of migration.up) sqlite.db.exec(statement);
      applied.push(migration.id);
    }
    if (applied.length > 0) sqlite.db.pragma(`user_version = ${latest}`);
    return applied;
  });
}

function refuseTakenNames(sqlite: SqliteConnection): void {
  const taken = (sqlite.statement(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[])
    .map((row) => row.name)
    .filter((name) => OWN_TABLES.includes(name));
  if (taken.length === 0) return;
  throw new SchedulerConfigError(
    'SchedulerModule',
    sqlite.option,
    `${sqlite.path} already has table(s) named ${taken.join(', ')}, which the scheduler's schema needs: give the scheduler a file of its own (store.path)`,
  );
}
