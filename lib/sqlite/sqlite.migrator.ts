import { SchedulerConfigError } from '../scheduler.errors.js';
import { SQLITE_MIGRATIONS } from './migrations/index.js';
import type { SqliteConnection } from './sqlite.connection.js';

/**
 * Applies the pending migrations in one write transaction and records the
 * last one in `PRAGMA user_version`. Why one `BEGIN IMMEDIATE` transaction:
 * processes that open a new file at once queue on the write lock, and each
 * then finds the schema and version of the one before it, so every step
 * runs once and nobody sees a half-built schema.
 * @returns the ids applied by this call.
 * @throws SchedulerConfigError when the file was migrated by a newer release.
 * @internal
 */
export function migrateSqlite(sqlite: SqliteConnection): number[] {
  return sqlite.write(() => {
    const version = Number(sqlite.db.pragma('user_version', { simple: true }));
    const latest = SQLITE_MIGRATIONS.at(-1)?.id ?? 0;
    if (version > latest) {
      throw new SchedulerConfigError(
        'SchedulerModule',
        'store.path',
        `${sqlite.path} has schema version ${version}, newer than this release knows (${latest}): upgrade nestjs-scheduler`,
      );
    }
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
