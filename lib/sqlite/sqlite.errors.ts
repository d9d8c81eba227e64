import { SchedulerError } from '../scheduler.errors.js';

/**
 * A scheduler write on the connection of `store: { type: 'sqlite', dataSource }`
 * waited `busyTimeout` ms for a transaction of the app to end on that
 * connection, and gave up: nothing was changed, and the call may be repeated.
 * Its `code` is `SQLITE_BUSY`, what SQLite says when another process holds
 * the file that long. A scheduler call made inside the app's transaction
 * without `{ manager }` ends this way: it waits for the very transaction that
 * waits for it.
 * @publicApi
 */
export class SqliteBusyError extends SchedulerError {
  /** The code SQLite gives a write that waited out its busy timeout. */
  readonly code = 'SQLITE_BUSY';

  constructor(
    /** How long the write waited, in ms (`store.busyTimeout`). */
    readonly waited: number,
  ) {
    super(
      `the app's transaction on the shared SQLite connection stayed open for ${waited} ms (store.busyTimeout): ` +
        'a scheduler call made inside a TypeORM transaction must pass { manager } to join it',
    );
  }
}
