import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The busy timeout SQLite itself applies on the store's own connection, in
 * ms: the longest one try for the lock blocks the event loop. A commit of
 * another process holds the lock for well under a millisecond, so most
 * contention ends within it, with no trip through the event loop.
 * @internal
 */
export const LOCK_TRY_MS = 2;
/** First wait between two tries, in ms; it doubles, up to `LAST_WAIT_MS`. */
const FIRST_WAIT_MS = 1;
/** Longest wait between two tries, in ms: how late a waiting write may notice that the lock is free. */
const LAST_WAIT_MS = 50;

/**
 * What a try returns when `BEGIN IMMEDIATE` found the write lock taken by
 * another connection: nothing of its body ran. `error` is SQLite's.
 * @internal
 */
export class LockTaken {
  constructor(readonly error: unknown) {}
}

/** Whether `error` is SQLite's "the file is locked by another connection" (`SQLITE_BUSY` and its extended codes). @internal */
export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Waits for the file's write lock without blocking the event loop.
 * better-sqlite3 is synchronous: with SQLite's own busy timeout, a write
 * that meets another process's transaction sleeps inside SQLite, and this
 * process (its HTTP server, its timers, its heartbeats) stands still until
 * the lock comes free or the timeout ends. So the store's own connection
 * has a busy timeout of `LOCK_TRY_MS`, and this waits between tries with
 * timers: 1 ms, doubling to 50 ms, with jitter (processes that met the same
 * holder do not all try at the same instant), up to `timeout` in all.
 *
 * A write that finds the lock free runs in the call, synchronously, as it
 * did with no wait. Once one write waits, later ones queue behind it and go
 * in their order: this process's writes stay in the order they were asked.
 * Reads need no write lock under WAL, and SQLite refuses one only for a
 * moment (while another connection recovers the log after a crash, or
 * truncates it): they are tried again the same way, outside the queue.
 * @internal
 */
export class SqliteLockWait {
  /** Settles after the last write queued for the lock; `null` when none waits. */
  private tail: Promise<void> | null = null;

  /**
   * @param timeout how long a write waits for the lock in all, in ms (`store.busyTimeout`).
   * @param timedOut the error of a write that waited `timeout` ms, from SQLite's last refusal.
   */
  constructor(
    private readonly timeout: number,
    private readonly timedOut: (waited: number, error: unknown) => Error,
  ) {}

  /**
   * Runs `attempt` now when no write of this process waits and the lock is
   * free; else tries it again, in its turn, until it gets the lock.
   * `attempt` must return `LockTaken` only when it changed nothing.
   * @throws what `timedOut` gives after `timeout` ms without the lock.
   */
  async write<T>(attempt: () => T | LockTaken): Promise<T> {
    if (this.tail === null) {
      const result = attempt();
      if (!(result instanceof LockTaken)) return result;
      // Counted from after the failed try: it blocked LOCK_TRY_MS at most.
      const since = performance.now();
      return this.queue(() => this.retry(attempt, since, result));
    }
    const since = performance.now();
    return this.queue(() => this.retry(attempt, since, null));
  }

  /**
   * Runs `body`, a read, now; tries it again while SQLite says the file is busy.
   * @throws what `timedOut` gives after `timeout` ms of refusals.
   */
  async read<T>(body: () => T): Promise<T> {
    const attempt = (): T | LockTaken => {
      try {
        return body();
      } catch (error) {
        if (isSqliteBusy(error)) return new LockTaken(error);
        throw error;
      }
    };
    const result = attempt();
    return result instanceof LockTaken ? this.retry(attempt, performance.now(), result) : result;
  }

  /** Runs `turn` after every write queued before it, and keeps the next ones behind it. */
  private queue<T>(turn: () => Promise<T>): Promise<T> {
    const mine = (this.tail ?? Promise.resolve()).then(turn);
    const done = mine.then(
      () => undefined,
      () => undefined,
    );
    this.tail = done;
    void done.then(() => {
      if (this.tail === done) this.tail = null;
    });
    return mine;
  }

  /** Tries until the lock is taken or `timeout` ms have passed since `since`; `taken` is a try of this very turn that failed. */
  private async retry<T>(attempt: () => T | LockTaken, since: number, taken: LockTaken | null): Promise<T> {
    for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, LAST_WAIT_MS)) {
      if (taken === null) {
        const result = attempt();
        if (!(result instanceof LockTaken)) return result;
        taken = result;
      }
      const left = since + this.timeout - performance.now();
      if (left <= 0) throw this.timedOut(this.timeout, taken.error);
      await sleep(Math.min(left, wait * (0.5 + Math.random())));
      taken = null;
    }
  }
}
