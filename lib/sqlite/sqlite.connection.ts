import type BetterSqlite3 from 'better-sqlite3';
import { loadOptionalPackage, type ModuleImporter } from '../common/optional-package.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { SqliteStoreOptions } from '../store/store-options.js';

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
 * An open SQLite file and the one way to write to it (what `openSqlite`
 * gives and `SqliteStore` takes).
 * @publicApi
 */
export interface SqliteConnection {
  readonly db: BetterSqlite3.Database;
  readonly path: string;
  /**
   * Runs `body` in a write transaction that starts with `BEGIN IMMEDIATE`.
   * Why IMMEDIATE: SQLite has one writer per file, and IMMEDIATE takes the
   * write lock before the first read, so every read-modify-write (a claim
   * reads due jobs, then marks them running) sees no commit of another
   * process between its read and its write: processes sharing the file never
   * claim the same job. A deferred transaction would read first and then
   * upgrade, which SQLite refuses at once with SQLITE_BUSY when another
   * process committed in between (busy timeout or not): three processes
   * claiming from one file failed with "database is locked" that way.
   * Nested calls are savepoints.
   */
  write<T>(body: () => T): T;
  /**
   * A prepared statement, prepared once per text and kept while the file is
   * open. Why kept: with better-sqlite3 12 on Node 24, a statement that is
   * garbage-collected can abort the process (`Assertion failed: (env) !=
   * nullptr` in its destructor); statements that live as long as the
   * connection are not collected while it runs.
   */
  statement(text: string): BetterSqlite3.Statement;
  /** Whether the file is still open. */
  readonly open: boolean;
  close(): void;
}

/**
 * Opens the file named by `options.path` with the scheduler's pragmas: WAL
 * (readers never block the writer, and a commit is one append to the log),
 * `synchronous=NORMAL` (under WAL a commit survives a crash of the process;
 * only a power loss or OS crash may lose the last commits, never corrupt the
 * file), a busy timeout (a writer waits for another process's transaction
 * instead of failing), and foreign keys off (the store keeps its own links).
 * `importer` loads `better-sqlite3` (a parameter so that tests can pretend it is missing).
 * @throws MissingPackageError when `better-sqlite3` is not installed.
 * @throws SchedulerConfigError for a missing path or a bad option.
 * @publicApi
 */
export async function openSqlite(options: SqliteStoreOptions, importer?: ModuleImporter): Promise<SqliteConnection> {
  const path = checkSqliteOptions(options);
  const busyTimeout = options.busyTimeout ?? SQLITE_DEFAULTS.busyTimeout;
  const { default: Driver } = await loadOptionalPackage<{ default: typeof BetterSqlite3 }>('better-sqlite3', 'the SQLite store', importer);
  const db = new Driver(path, { timeout: busyTimeout });
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') {
      throw new SchedulerConfigError('SchedulerModule', 'store.path', `${path} cannot use WAL mode (journal_mode is ${String(mode)})`);
    }
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${busyTimeout}`);
  } catch (error) {
    db.close();
    throw error;
  }
  return sqliteConnection(db, path);
}

function sqliteConnection(db: BetterSqlite3.Database, path: string): SqliteConnection {
  // One wrapper for every body: db.transaction() makes a nested call a savepoint.
  const transaction = db.transaction((body: () => unknown) => body());
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    db,
    path,
    write<T>(body: () => T): T {
      return transaction.immediate(body) as T;
    },
    statement(text: string): BetterSqlite3.Statement {
      let statement = statements.get(text);
      if (!statement) statements.set(text, (statement = db.prepare(text)));
      return statement;
    },
    get open() {
      return db.open;
    },
    close() {
      if (db.open) db.close();
    },
  };
}

/**
 * Checks the options of `store: { type: 'sqlite' }`; resolves to the path.
 * @throws SchedulerConfigError naming the option at fault.
 * @internal
 */
export function checkSqliteOptions(options: SqliteStoreOptions): string {
  const fail = (option: string, detail: string): never => {
    throw new SchedulerConfigError('SchedulerModule', option, detail);
  };
  if (typeof options.path !== 'string' || options.path.trim() === '') fail('store.path', 'must name the database file, e.g. "./data/scheduler.db"');
  if (options.path === ':memory:' || options.path.startsWith('file::memory:')) {
    fail('store.path', 'an in-memory SQLite database keeps nothing across a restart: use store: "memory" instead');
  }
  for (const option of ['busyTimeout', 'notifyInterval'] as const) {
    const value = options[option];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) fail(`store.${option}`, 'must be a positive integer of milliseconds');
  }
  return options.path;
}
