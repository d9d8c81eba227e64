import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource, EntitySubscriberInterface } from 'typeorm';
import { InvalidArgumentError, SchedulerConfigError } from '../scheduler.errors.js';
import { sqliteConnection, type SqliteConnection } from './sqlite.handle.js';

/** The parts of a TypeORM EntityManager that tell whose transaction it runs in. */
interface ManagerLike {
  query?: unknown;
  dataSource?: { driver?: { databaseConnection?: unknown } };
  queryRunner?: { isTransactionActive?: unknown };
}

/**
 * Works on the connection of the app's TypeORM DataSource (better-sqlite3
 * driver), which must be initialised. Why its connection and not one of our
 * own on the same file: SQLite has one writer per file and better-sqlite3
 * waits for the write lock synchronously, so a second connection of this
 * process that found the app's transaction holding the file would block the
 * event loop the app needs to finish that transaction, until its busy
 * timeout. One connection instead, and the store's calls wait for the app's
 * transaction without blocking (see `SqliteGate`).
 *
 * Pragmas: only `journal_mode = WAL` (kept in the file, as TypeORM's own
 * `enableWAL` sets it), because processes sharing the file rely on it and
 * readers then never block the writer. The others are per connection and
 * the app's choice, so they stay as the DataSource set them: `synchronous`
 * (TypeORM leaves SQLite's FULL: a commit survives a power loss, not only a
 * crash), `busy_timeout` (the DataSource's `timeout` option, 5 s by default)
 * and `foreign_keys` (TypeORM turns them on; the scheduler's tables have none).
 *
 * The store never closes the connection: the app destroys its DataSource.
 * @throws SchedulerConfigError naming `store.dataSource` when it is no
 * initialised better-sqlite3 DataSource on a file WAL can use.
 * @internal
 */
export async function borrowSqlite(candidate: object, busyTimeout: number): Promise<SqliteConnection> {
  const fail = (detail: string): never => {
    throw new SchedulerConfigError('SchedulerModule', 'store.dataSource', detail);
  };
  if (typeof candidate !== 'object' || candidate === null) fail('must be a TypeORM DataSource');
  const ds = candidate as Partial<DataSource>;
  const type = (ds.options as { type?: unknown } | undefined)?.type;
  if (typeof ds.isInitialized !== 'boolean' || !ds.driver || type === undefined) fail('must be a TypeORM DataSource');
  if (type !== 'better-sqlite3') fail(`needs the "better-sqlite3" driver, not "${String(type)}"`);
  if (!ds.isInitialized) fail('must be initialized (await dataSource.initialize()) before the scheduler starts');
  const dataSource = ds as DataSource;
  const db = (dataSource.driver as unknown as { databaseConnection?: BetterSqlite3.Database }).databaseConnection;
  if (!db?.open) return fail('has no open connection (was it destroyed?)');
  if (db.memory) fail('uses an in-memory database, which keeps nothing across a restart: give it a file, or use store: "memory"');
  if (db.readonly) fail('is read-only, and the scheduler writes its jobs there');

  // Woken when a transaction of the app ends, so a waiting claim or ack goes at once (see SqliteGate).
  const subscriber: EntitySubscriberInterface = {
    afterTransactionCommit: () => connection.gate.wake(),
    afterTransactionRollback: () => connection.gate.wake(),
  };
  const connection = sqliteConnection(db, {
    path: db.name,
    option: 'store.dataSource',
    borrowed: true,
    timeout: busyTimeout,
    joins: (manager) => joinsTransaction(manager, db),
    release: () => {
      const at = dataSource.subscribers.indexOf(subscriber);
      if (at >= 0) dataSource.subscribers.splice(at, 1);
    },
  });
  dataSource.subscribers.push(subscriber);
  try {
    // journal_mode cannot change inside a transaction: wait for the app's to end.
    const mode = String(await connection.run(() => db.pragma('journal_mode = WAL', { simple: true }))).toLowerCase();
    if (mode !== 'wal') fail(`${db.name} cannot use WAL mode (journal_mode is ${mode})`);
  } catch (error) {
    connection.close();
    throw error;
  }
  return connection;
}

/** Whether `manager`'s transaction is open on `db` now; throws when `manager` works on another connection. */
function joinsTransaction(manager: object, db: BetterSqlite3.Database): boolean {
  const m = manager as ManagerLike;
  // The connection, not the DataSource, is compared: a DataSource injected through Nest may be a wrapper around the one TypeORM hands its managers.
  if (typeof m.query !== 'function' || m.dataSource?.driver?.databaseConnection !== db) {
    throw new InvalidArgumentError('manager', 'must be an EntityManager of the DataSource given as store.dataSource');
  }
  return m.queryRunner?.isTransactionActive === true && db.inTransaction;
}
