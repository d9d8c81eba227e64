import type BetterSqlite3 from 'better-sqlite3';
import { SqliteBusyError } from './sqlite.errors.js';
import { SqliteGate } from './sqlite.gate.js';
import { isSqliteBusy, LockTaken, SqliteLockWait } from './sqlite.lock-wait.js';

/**
 * An open SQLite file and the one way to write to it (what `openSqlite`
 * gives and `SqliteStore` takes): a connection of the store's own (`path`) or
 * the app's TypeORM DataSource's (`dataSource`).
 * @publicApi
 */
export interface SqliteConnection {
  readonly db: BetterSqlite3.Database;
  readonly path: string;
  /** The option that named the database, for messages: `store.path` or `store.dataSource`. */
  readonly option: 'store.path' | 'store.dataSource';
  /** Whether the connection is the app's (a DataSource's): the store never closes it. */
  readonly borrowed: boolean;
  /** Whether a transaction the store did not open (the app's) is open on the connection now. */
  readonly busy: boolean;
  /**
   * Runs `body` in a write transaction that starts with `BEGIN IMMEDIATE`,
   * once no transaction of the app is open on the connection (see `run`).
   * Why IMMEDIATE: SQLite has one writer per file, and IMMEDIATE takes the
   * write lock before the first read, so every read-modify-write (a claim
   * reads due jobs, then marks them running) sees no commit of another
   * process between its read and its write: processes sharing the file never
   * claim the same job. A deferred transaction would read first and then
   * upgrade, which SQLite refuses at once with SQLITE_BUSY when another
   * process committed in between (busy timeout or not): three processes
   * claiming from one file failed with "database is locked" that way.
   *
   * On the store's own file, a lock held by another process is waited for
   * without blocking the event loop (see `SqliteLockWait`), up to
   * `busyTimeout`; on a DataSource's connection, SQLite's busy timeout (the
   * DataSource's `timeout`) waits for it, blocking, as every query of the app does.
   * @throws SqliteBusyError when another process holds the file's write lock
   * past the wait, or the app's transaction stays open `busyTimeout` ms; `body` changed nothing.
   */
  write<T>(body: () => T): Promise<T>;
  /**
   * Runs `body` outside any transaction (each statement commits alone), in
   * this call when the connection is free, else once the app's transaction
   * ends. Meant for one statement that needs no write lock (a pragma): it
   * is not tried again when another process holds the file.
   * @throws SqliteBusyError as `write` does.
   */
  run<T>(body: () => T): Promise<T>;
  /**
   * Runs `body`, reads only, in this call (a read never waits for the app's
   * transaction: it sees its rows). Under WAL a read needs no lock, but
   * SQLite refuses one for a moment while another process recovers or
   * truncates the log: on the store's own file it is tried again without
   * blocking the event loop, up to `busyTimeout`.
   * @throws SqliteBusyError when the file stayed busy that long.
   */
  read<T>(body: () => T): Promise<T>;
  /**
   * Whether `manager`'s transaction is the one open on this connection now,
   * so that a write through `within` becomes part of it.
   * @throws InvalidArgumentError when `manager` is not an EntityManager of
   * this connection's DataSource (or the store opened its own file).
   */
  joins(manager: object): boolean;
  /**
   * Runs `body` in a savepoint of the transaction open on the connection
   * (the caller's, after `joins`): a `body` that throws leaves the caller's
   * own writes as they were.
   */
  within<T>(body: () => T): T;
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
  /** Closes a file the store opened; only lets go of a DataSource's connection. */
  close(): void;
}

/**
 * How a connection differs between the store's own file and a DataSource's.
 * @internal
 */
export interface SqliteConnectionSetup {
  path: string;
  option: SqliteConnection['option'];
  borrowed: boolean;
  /**
   * How long a call waits (`busyTimeout`): for the write lock on the store's
   * own file, for a transaction of the app on a DataSource's connection.
   */
  timeout: number;
  joins(manager: object): boolean;
  /** Lets go of the connection: closes it, or only what the store hooked on it. */
  release(): void;
}

/**
 * The connection the store works through, on an open database.
 * @internal
 */
export function sqliteConnection(db: BetterSqlite3.Database, setup: SqliteConnectionSetup): SqliteConnection & { readonly gate: SqliteGate } {
  // One wrapper for every body: db.transaction() makes a nested call a savepoint.
  const transaction = db.transaction((body: () => unknown) => body());
  const statements = new Map<string, BetterSqlite3.Statement>();
  const gate = new SqliteGate(db, setup.timeout);
  // How long a busy call waited: on a DataSource's connection, SQLite's busy timeout (the DataSource's `timeout`, read only once it ran out).
  const busyOption = setup.borrowed ? "the DataSource's timeout" : 'store.busyTimeout';
  const waited = (): number => (!setup.borrowed ? setup.timeout : db.open ? Number(db.pragma('busy_timeout', { simple: true })) : 0);
  /** SQLite's "another process holds the file" as the typed error; any other error as it is. */
  const typed = (error: unknown, ms?: number): unknown =>
    isSqliteBusy(error) ? new SqliteBusyError(ms ?? waited(), { path: setup.path, cause: error, option: busyOption }) : error;
  /** One try of a write: `LockTaken` when `BEGIN IMMEDIATE` found another process's lock (nothing ran). */
  const tryWrite = <T>(body: () => T): T | LockTaken => {
    let began = false;
    try {
      return transaction.immediate(() => {
        began = true;
        return body();
      }) as T;
    } catch (error) {
      if (!began && isSqliteBusy(error)) return new LockTaken(error);
      throw typed(error);
    }
  };
  const lock = new SqliteLockWait(setup.timeout, (ms, error) => typed(error, ms) as Error);
  let released = false;
  return {
    db,
    gate,
    path: setup.path,
    option: setup.option,
    borrowed: setup.borrowed,
    get busy() {
      return gate.busy;
    },
    write<T>(body: () => T): Promise<T> {
      // On its own file the store opens no transaction between two calls: nothing for the gate to wait for.
      if (!setup.borrowed) return lock.write(() => tryWrite(body));
      return gate.run(() => {
        try {
          return transaction.immediate(body) as T;
        } catch (error) {
          throw typed(error);
        }
      });
    },
    run<T>(body: () => T): Promise<T> {
      return gate.run(() => {
        try {
          return body();
        } catch (error) {
          throw typed(error);
        }
      });
    },
    async read<T>(body: () => T): Promise<T> {
      if (!setup.borrowed) return lock.read(body);
      try {
        return body();
      } catch (error) {
        throw typed(error);
      }
    },
    joins: (manager) => setup.joins(manager),
    within<T>(body: () => T): T {
      return transaction(body) as T;
    },
    statement(text: string): BetterSqlite3.Statement {
      let statement = statements.get(text);
      if (!statement) statements.set(text, (statement = db.prepare(text)));
      return statement;
    },
    get open() {
      return !released && db.open;
    },
    close() {
      if (released) return;
      released = true;
      setup.release();
    },
  };
}
