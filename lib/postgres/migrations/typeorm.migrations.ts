import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, validateIdentifier } from '../identifiers.js';
import { POSTGRES_DEFAULTS } from '../postgres.connection.js';
import { migrationLockKey, sqlNames } from '../sql/names.js';
import { MIGRATIONS } from './index.js';
import type { SchedulerMigration } from './migration.js';
import { MIGRATION_LOCK_SQL, migrationsTableSql, recordMigrationSql } from './migrator.js';

/**
 * A TypeORM migration class (what `DataSource({ migrations })` takes).
 * @publicApi
 */
export type SchedulerMigrationClass = new () => MigrationInterface;

/**
 * The scheduler's migrations as TypeORM migration classes, for apps that run
 * their own migrations (then set the store's `migrate: false`). They run the
 * same SQL as the built-in migrator, under the same advisory lock, and record
 * themselves in `{prefix}migrations` too, so either path can follow the other.
 *
 * ```ts
 * new DataSource({ type: 'postgres', url, migrations: [...createSchedulerMigrations({ schema: 'jobs' })] });
 * ```
 *
 * Class names carry the schema and prefix (two schedulers in one database
 * get distinct migrations) and end with a fixed timestamp, as TypeORM requires.
 * @throws SchedulerConfigError for an invalid schema or prefix.
 * @publicApi
 */
export function createSchedulerMigrations(options: { schema?: string; tablePrefix?: string } = {}): SchedulerMigrationClass[] {
  const schema = validateIdentifier('store.schema', options.schema ?? POSTGRES_DEFAULTS.schema);
  const prefix = validateIdentifier('store.tablePrefix', options.tablePrefix ?? POSTGRES_DEFAULTS.tablePrefix, { allowEmpty: true });
  const names = sqlNames({ schema, prefix, table: (name) => `${quoteIdent(schema)}.${quoteIdent(prefix + name)}` });
  const tablesLock = migrationLockKey(schema, prefix);
  const schemaLock = migrationLockKey(schema);

  const prepare = async (runner: QueryRunner): Promise<void> => {
    await runner.query(MIGRATION_LOCK_SQL, [tablesLock]);
    await runner.query(MIGRATION_LOCK_SQL, [schemaLock]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await runner.query(migrationsTableSql(names));
  };

  return MIGRATIONS.map((migration: SchedulerMigration) => {
    const className = `Scheduler${String(migration.id).padStart(3, '0')}${pascalCase(migration.name)}_${schema}_${prefix}${migration.timestamp}`;
    const step = class implements MigrationInterface {
      readonly name = className;

      async up(runner: QueryRunner): Promise<void> {
        await prepare(runner);
        for (const statement of migration.up(names)) await runner.query(statement);
        await runner.query(recordMigrationSql(names), [migration.id, migration.name]);
      }

      async down(runner: QueryRunner): Promise<void> {
        await prepare(runner);
        for (const statement of migration.down(names)) await runner.query(statement);
        await runner.query(`DELETE FROM ${names.migrations} WHERE id = $1`, [migration.id]);
      }
    };
    Object.defineProperty(step, 'name', { value: className });
    return step;
  });
}

function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
