import type BetterSqlite3 from 'better-sqlite3';
import { SqliteGate } from './sqlite.gate.js';

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
   * @throws SqliteBusyError when the app's transaction stays open `busyTimeout` ms.
   */
  write<T>(body: () => T): Promise<T>;
  /**
   * Runs `body` outside any transaction (each statement commits alone), in
   * this call when the connection is free, else once the app's transaction
   * ends. @throws SqliteBusyError as `write` does.
   */
  run<T>(body: () => T): Promise<T>;
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
  /** How long a call waits for a transaction of the app (`busyTimeout`). */
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
      return gate.run(() => transaction.immediate(body) as T);
    },
    run<T>(body: () => T): Promise<T> {
      return gate.run(body);
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
