import { SchedulerError, StoreUnavailableError } from '../scheduler.errors.js';

/**
 * A scheduler call could not get the SQLite file's write lock in time, and
 * gave up: nothing was changed, and the call may be repeated. Its `code` is
 * `SQLITE_BUSY`, and it is a `StoreUnavailableError`. Two causes:
 *
 * - another process held the file's write lock for `busyTimeout` ms
 *   (SQLite's error is the `cause`); with `store: { type: 'sqlite', path }`
 *   the call waited that long without blocking the event loop;
 * - with `store: { type: 'sqlite', dataSource }`, a transaction of the app
 *   stayed open `busyTimeout` ms on the shared connection. A scheduler call
 *   made inside the app's transaction without `{ manager }` ends this way:
 *   it waits for the very transaction that waits for it.
 * @publicApi
 */
export class SqliteBusyError extends StoreUnavailableError {
  /** The code SQLite gives a write that waited out its busy timeout. */
  readonly code = 'SQLITE_BUSY';

  constructor(
    /** How long the call waited, in ms (`store.busyTimeout`; with a DataSource and another process, the DataSource's `timeout`). */
    readonly waited: number,
    /** With `cause` (SQLite's error): another process held the file named `path`. */
    held?: { path: string; cause: unknown; option?: string },
  ) {
    super(
      held
        ? `another process held the write lock of ${held.path} for ${waited} ms (${held.option ?? 'store.busyTimeout'}; ${describeSqliteError(held.cause)}): ` +
            'nothing was written, and the call may be repeated'
        : `the app's transaction on the shared SQLite connection stayed open for ${waited} ms (store.busyTimeout): ` +
            'a scheduler call made inside a TypeORM transaction must pass { manager } to join it',
      held ? { cause: held.cause } : undefined,
    );
  }
}

/** SQLite's code of `error` (`SQLITE_FULL`, …), or `null`. */
function codeOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

/**
 * SQLite's "the file cannot take this write now": the disk (or
 * `max_page_count`) is full, or the file, its directory or the connection
 * (`query_only`) became read-only. The transaction wrote nothing, and the
 * same write succeeds once space or permission comes back.
 * @internal
 */
export function isRefusedWrite(error: unknown): boolean {
  const code = codeOf(error);
  return code !== null && (code === 'SQLITE_FULL' || code.startsWith('SQLITE_READONLY'));
}

/** An error as a log line or a message's detail: `CODE: message`. @internal */
export function describeSqliteError(error: unknown): string {
  const code = codeOf(error);
  const message = (error as { message?: unknown } | null)?.message;
  return `${code === null ? '' : `${code}: `}${typeof message === 'string' ? message : String(error)}`;
}

/** What a caller is told of a write the file refused, by SQLite's code. */
function refusal(code: string): string | null {
  if (code === 'SQLITE_FULL') return 'the disk is full (or the file reached max_page_count)';
  if (code.startsWith('SQLITE_READONLY')) return 'the file is read-only for this process';
  if (code === 'SQLITE_BUSY') return 'another process held the file past busyTimeout';
  return null;
}

/**
 * A write the file refused for now (a full disk, a file turned read-only,
 * another process holding it past `busyTimeout`) as the typed error callers
 * get, SQLite's error as its `cause` (its `code` there); `null` for any
 * other error. Its transaction rolled back: nothing was written.
 * @internal
 */
export function refusedBySqlite(error: unknown, path: string): StoreUnavailableError | null {
  // The scheduler's own errors (SqliteBusyError on a DataSource's connection) are typed already.
  if (error instanceof SchedulerError) return null;
  const code = codeOf(error);
  const why = code === null ? null : refusal(code);
  if (why === null) return null;
  return new StoreUnavailableError(`SQLite refused the write to ${path}: ${why} (${describeSqliteError(error)}); nothing was written`, { cause: error });
}
