import type BetterSqlite3 from 'better-sqlite3';
import { loadOptionalPackage } from '../common/optional-package.js';
import { InvalidArgumentError, SchedulerConfigError } from '../scheduler.errors.js';
import type { SqliteStoreOptions } from '../store/store-options.js';
import { borrowSqlite } from './sqlite.data-source.js';
import { describeSqliteError } from './sqlite.errors.js';
import { sqliteConnection, type SqliteConnection } from './sqlite.handle.js';
import { LOCK_TRY_MS } from './sqlite.lock-wait.js';

export type { SqliteConnection } from './sqlite.handle.js';

/**
 * Defaults of the SQLite store's options.
 * @internal
 */
export const SQLITE_DEFAULTS = {
  busyTimeout: 5_000,
  notifyInterval: 100,
  maxPayloadBytes: 1_048_576,
} as const;

/**
 * Opens the database named by `options`: with `path`, a connection of the
 * store's own with the scheduler's pragmas: WAL (readers never block the
 * writer, and a commit is one append to the log), `synchronous=NORMAL`
 * (under WAL a commit survives a crash of the process; only a power loss or
 * OS crash may lose the last commits, never corrupt the file), a busy
 * timeout of `LOCK_TRY_MS` once open (a write that meets another process's
 * transaction waits for it between tries, without blocking the event loop,
 * up to `busyTimeout`: see `SqliteLockWait`), and foreign keys off (the
 * store keeps its own links). With
 * `dataSource`, the DataSource's connection (see `borrowSqlite`).
 * `importer` loads `better-sqlite3` (a parameter so that tests can pretend it is missing).
 * @throws MissingPackageError when `better-sqlite3` is not installed.
 * @throws SchedulerConfigError for a missing path or a bad option.
 * @publicApi
 */
export async function openSqlite(options: SqliteStoreOptions, importer?: (specifier: string) => Promise<unknown>): Promise<SqliteConnection> {
  const path = checkSqliteOptions(options);
  const busyTimeout = options.busyTimeout ?? SQLITE_DEFAULTS.busyTimeout;
  if (path === null) return borrowSqlite(options.dataSource as object, busyTimeout);
  const { default: Driver } = await loadOptionalPackage<{ default: typeof BetterSqlite3 }>('better-sqlite3', 'the SQLite store', importer);
  let db: BetterSqlite3.Database;
  try {
    db = new Driver(path, { timeout: busyTimeout });
  } catch (error) {
    // A missing directory (better-sqlite3's own TypeError, no code), or one SQLite cannot create the file in (SQLITE_CANTOPEN).
    throw new SchedulerConfigError(
      'SchedulerModule',
      'store.path',
      `${path} cannot be opened (${describeSqliteError(error)}): its directory must exist and be writable by this process`,
    );
  }
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') {
      throw new SchedulerConfigError('SchedulerModule', 'store.path', `${path} cannot use WAL mode (journal_mode is ${String(mode)})`);
    }
    db.pragma('synchronous = NORMAL');
    // Opened with the whole busyTimeout: making a new file WAL needs it alone, and a start may block for that.
    db.pragma(`busy_timeout = ${LOCK_TRY_MS}`);
  } catch (error) {
    db.close();
    throw unwritableSqlite('store.path', path, error);
  }
  return sqliteConnection(db, {
    path,
    option: 'store.path',
    borrowed: false,
    timeout: busyTimeout,
    joins: () => {
      throw new InvalidArgumentError(
        'manager',
        'joining a TypeORM transaction needs store: { type: "sqlite", dataSource } (with path, the store has a connection of its own)',
      );
    },
    release: () => {
      if (db.open) db.close();
    },
  });
}

/**
 * Checks the options of `store: { type: 'sqlite' }`; resolves to the path (`null` with a `dataSource`).
 * @throws SchedulerConfigError naming the option at fault.
 * @internal
 */
export function checkSqliteOptions(options: SqliteStoreOptions): string | null {
  const fail = (option: string, detail: string): never => {
    throw new SchedulerConfigError('SchedulerModule', option, detail);
  };
  if (options.path !== undefined && options.dataSource !== undefined) fail('store.dataSource', 'give exactly one of "path" or "dataSource"');
  for (const option of ['busyTimeout', 'notifyInterval'] as const) {
    const value = options[option];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) fail(`store.${option}`, 'must be a positive integer of milliseconds');
  }
  if (options.dataSource !== undefined) return null;
  if (typeof options.path !== 'string' || options.path.trim() === '') {
    fail('store.path', 'must name the database file, e.g. "./data/scheduler.db" (or give a TypeORM DataSource as "dataSource")');
  }
  if (options.path === ':memory:' || options.path!.startsWith('file::memory:')) {
    fail('store.path', 'an in-memory SQLite database keeps nothing across a restart: use store: "memory" instead');
  }
  return options.path!;
}

/**
 * A file the store cannot write at start (`SQLITE_READONLY*`: the file, or
 * the directory where its `-wal` and `-shm` files go, is not writable by
 * this process; SQLite opens a write-protected file read-only without a
 * word, and refuses its first write) as a `SchedulerConfigError` naming the
 * option (`store.path`, `store.dataSource`) and the file; any other error
 * as it is.
 * @internal
 */
export function unwritableSqlite(option: SqliteConnection['option'], path: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_READONLY')) return error;
  return new SchedulerConfigError(
    'SchedulerModule',
    option,
    `${path} is read-only for this process (${describeSqliteError(error)}), and the scheduler writes its jobs there: ` +
      'the file and its directory (where SQLite keeps its -wal and -shm files) must be writable',
  );
}
