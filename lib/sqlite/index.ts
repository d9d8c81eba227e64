/**
 * nestjs-scheduler/sqlite: the SQLite engine (better-sqlite3 12). The only
 * part of the package that imports `better-sqlite3`; `store: { type:
 * 'sqlite', path }` (or `{ type: 'sqlite', dataSource }`, a TypeORM
 * better-sqlite3 DataSource) loads it on demand, so importing it yourself is
 * needed only to build the parts by hand (or to run the store conformance suite).
 */
export { SqliteStore, type SqliteNodeIdentity } from './sqlite.store.js';
export { openSqlite, type SqliteConnection } from './sqlite.connection.js';
export { SqliteBusyError } from './sqlite.errors.js';
export { SqlitePeer, type SqlitePeerOptions } from './sqlite.peer.js';
export { SqliteNotifier, type SqliteNotifierOptions } from './sqlite.notifier.js';
export type { SqliteStoreOptions } from '../store/store-options.js';
