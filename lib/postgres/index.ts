/**
 * nestjs-scheduler/postgres: the PostgreSQL engine. The only part of the
 * package that imports `pg` and `typeorm`; `store: { type: 'postgres', … }`
 * loads it on demand, so importing it yourself is needed only for the
 * TypeORM migrations or to build the parts by hand.
 */
export { createSchedulerMigrations, type SchedulerMigrationClass } from './migrations/typeorm.migrations.js';
export { PostgresStore } from './postgres.store.js';
export { PostgresPeer, type PostgresPeerOptions } from './postgres.peer.js';
export { PostgresNotifier } from './postgres.notifier.js';
export { openPostgres, channelName } from './postgres.connection.js';
export { StoreUnavailableError } from './postgres.errors.js';
export type { PostgresContext } from './postgres.context.js';
export type { PostgresTimeoutOptions, PostgresTimeouts, ConnectionBounds } from './postgres.timeouts.js';
export type { PostgresStoreOptions } from '../store/store-options.js';
