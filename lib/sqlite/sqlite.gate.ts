import { performance } from 'node:perf_hooks';
import type BetterSqlite3 from 'better-sqlite3';
import { SqliteBusyError } from './sqlite.errors.js';

/**
 * How often a waiting write looks again when nobody told it that a
 * transaction ended (one raw `COMMIT` through `dataSource.query` tells no
 * subscriber): one boolean read per waiter each time.
 */
const LOOK_AGAIN_MS = 10;

/**
 * Keeps the store's statements out of transactions it did not open. On its
 * own file no such transaction exists between two of its calls (each write
 * is synchronous, BEGIN to COMMIT), so `run` runs at once. On a TypeORM
 * DataSource's connection the app's transaction spans awaits, and any
 * statement of ours run meanwhile would join it: a claim or an ack rolled
 * back with the app's work (a job running with no trace of its claim, a
 * finished job run again), and a claim reading jobs the app has not
 * committed (a job started before its enqueue commits, or that never does).
 * So a call waits until no transaction is open, as a second connection would
 * wait for the file's write lock, up to `timeout` ms.
 * @internal
 */
export class SqliteGate {
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly timeout: number,
  ) {}

  /** Whether a transaction the store did not open is open on the connection now. */
  get busy(): boolean {
    return this.db.open && this.db.inTransaction;
  }

  /**
   * Runs `body` once no transaction is open: in this very call when none is
   * (so on a file of its own the store behaves as if this were synchronous),
   * else on the first look after the app's transaction ends. The check and
   * `body` run in one synchronous step, so nothing can begin in between.
   * @throws SqliteBusyError after `timeout` ms of waiting; `body` did not run.
   */
  async run<T>(body: () => T): Promise<T> {
    if (!this.busy) return body();
    const deadline = performance.now() + this.timeout;
    while (this.busy) {
      const left = deadline - performance.now();
      if (left <= 0) throw new SqliteBusyError(this.timeout);
      await this.nextLook(left);
    }
    return body();
  }

  /** Makes every waiter look again now (a transaction on the connection just ended). */
  wake(): void {
    // Each waiter leaves the set as it runs; a Set visits no entry deleted before its turn, and new waiters come only after an await.
    for (const waiter of this.waiters) waiter();
  }

  private nextLook(left: number): Promise<void> {
    return new Promise((resolve) => {
      const look = (): void => {
        clearTimeout(timer);
        this.waiters.delete(look);
        resolve();
      };
      const timer = setTimeout(look, Math.min(left, LOOK_AGAIN_MS));
      this.waiters.add(look);
    });
  }
}
