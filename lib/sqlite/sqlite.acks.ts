import { Logger } from '@nestjs/common';
import { describeSqliteError, isRefusedWrite } from './sqlite.errors.js';
import { RetrySleeps } from '../common/retry-sleeps.js';
import type { SqliteConnection } from './sqlite.connection.js';
import type { UsualCompletion } from './sqlite.lifecycle.js';

/**
 * Acknowledgements one write transaction carries at most: the file's write
 * lock is held for the whole batch (~10 µs an ack), so 500 keep it under a
 * few milliseconds for the other processes of the file.
 */
const MAX_BATCH = 500;
/** Thrown to roll back a run of usual completions of which one did not apply. */
const NOT_ALL = new Error('a usual completion did not apply');
/** Waits between tries of a transaction another holder of the file kept from beginning: doubling, capped. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1_000;

/**
 * One acknowledgement: `fast`, when given, is a usual completion, written
 * with the others of its run of the batch or in one statement alone; when
 * not given (or when it did not apply) `body` runs in a savepoint of its
 * own. Either throws StaleAttemptError (or any error) for this ack alone.
 */
interface PendingAck {
  fast?: UsualCompletion;
  body: () => void;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Writes the acknowledgements (complete, retry, fail, release) of one turn
 * of the event loop in ONE `BEGIN IMMEDIATE` transaction, where each was a
 * transaction of its own: a commit (the write lock, the WAL frames of every
 * page touched, and now and then a checkpoint) cost 103–200 µs of wall time
 * a completion, against 9.5–21 µs with 100 in one transaction (20,000-job
 * drains, `/tmp` on ext4). Contract, as the PostgreSQL and Redis stores':
 *
 * - each ack is fenced by its attempt on its own: its caller is resolved, or
 *   rejected (StaleAttemptError, or the error of its own statements), alone;
 *   a failing ack runs in a savepoint, so it rolls back nothing else;
 * - a caller's promise settles only after the commit;
 * - a claim may carry the acks still queued in its own transaction (see
 *   `writeInto`), each written as above; a claim that fails hands them back;
 * - a transaction another holder of the file keeps from beginning past
 *   `busyTimeout` (another process's write, the app's transaction on a
 *   shared connection) is tried again, with backoff, until it begins: it
 *   wrote nothing, and an ack given up would leave its job running, to be
 *   rescued and run a second time;
 * - so is a transaction the file refuses to take for now, a full disk
 *   (`SQLITE_FULL`) or a file turned read-only (`SQLITE_READONLY`), whether
 *   its commit or one ack's statements met it: the whole transaction rolls
 *   back and is tried again until the file takes it (the attempts keep their
 *   slots and heartbeats meanwhile), rather than each ack being rejected,
 *   its job left running without a heartbeat, rescued and run again;
 * - a transaction that fails otherwise (a disk I/O error) rejects every
 *   ack it carried;
 * - `flush` (store close) writes what is queued and waits for it, trying a
 *   busy or refused transaction once more and no further.
 * @internal
 */
export class SqliteAcks {
  private pending: PendingAck[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private readonly inflight = new Set<Promise<void>>();
  private closing = false;
  private readonly sleeps = new RetrySleeps();
  private readonly logger = new Logger('Scheduler');

  /**
   * @param usual writes usual completions, all of a run (`all`, false when
   *   any did not apply) or one (`alone`, false when it did not), and what
   *   they leave to write at the transaction's end (`flush`, inside it) or
   *   to forget when it fails (`drop`).
   */
  constructor(
    private readonly sqlite: SqliteConnection,
    private readonly usual?: {
      all(done: readonly UsualCompletion[]): boolean;
      alone(done: UsualCompletion): boolean;
      flush(): void;
      drop(): void;
    },
  ) {}

  /** Queues an ack for the next transaction; resolves once it is committed. */
  add(body: () => void, fast?: UsualCompletion): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ fast, body, resolve, reject });
      this.scheduled ??= setImmediate(() => this.writePending());
    });
  }

  /** Writes what is queued at once and waits for every transaction under way. */
  async flush(): Promise<void> {
    this.closing = true;
    this.sleeps.wakeAll();
    // Again while acks come back: those a failed claim carried (see `writeInto`) are queued anew.
    do {
      this.writePending();
      await Promise.allSettled(this.inflight);
    } while (this.pending.length > 0);
  }

  /**
   * Writes up to {@link MAX_BATCH} queued acks in the caller's write
   * transaction (a claim's), in a savepoint, each fenced and failing alone
   * as in a transaction of their own: one commit, and one write of the pages
   * both change, where there were two. The caller calls `settle` once its
   * transaction committed, `putBack` when it did not (the acks go back to
   * the queue, for a transaction of their own). Returns null when none is
   * queued, or when the savepoint failed (a full disk, a read-only file):
   * then the acks are queued again and the caller's transaction goes on.
   * @throws the error of a transaction that ended under it (SQLite rolls back on some I/O errors); the acks are queued again.
   */
  writeInto(): { settle(): void; putBack(): void } | null {
    if (this.pending.length === 0) return null;
    const batch = this.pending.splice(0, MAX_BATCH);
    const failed = new Map<PendingAck, unknown>();
    try {
      this.sqlite.within(() => this.writeBatch(batch, failed));
    } catch (error) {
      this.requeue(batch);
      if (!this.sqlite.db.inTransaction) throw error;
      return null;
    }
    if (this.pending.length === 0 && this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    // Held in `inflight` until settled or put back, so that `flush` waits for it.
    let done!: () => void;
    const work = new Promise<void>((resolve) => (done = resolve));
    this.inflight.add(work);
    void work.then(() => this.inflight.delete(work));
    return {
      settle: () => {
        settle(batch, failed);
        done();
      },
      putBack: () => {
        this.requeue(batch);
        done();
      },
    };
  }

  /** Queues `batch` again, ahead of what came since, for a transaction of its own. */
  private requeue(batch: readonly PendingAck[]): void {
    this.pending.unshift(...batch);
    this.scheduled ??= setImmediate(() => this.writePending());
  }

  private writePending(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      const work = this.write(batch);
      this.inflight.add(work);
      void work.finally(() => this.inflight.delete(work));
    }
  }

  private async write(batch: readonly PendingAck[]): Promise<void> {
    let warned = false;
    for (let delay = RETRY_FIRST_MS; ; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
      const again = await this.tryWrite(batch);
      if (again === false) return;
      if (again !== true && !warned) {
        warned = true;
        this.logger.warn(
          `${batch.length} acknowledgement(s) wait for ${this.sqlite.path} to take writes again (tried again until it does): ${describeSqliteError(again)}`,
        );
      }
      await this.sleeps.sleep(delay);
    }
  }

  /**
   * One try of the batch's transaction: `false` when it is settled, `true`
   * when the file was busy, or the error of a file that refused the write
   * for now (full, read-only), to try again.
   */
  private async tryWrite(batch: readonly PendingAck[]): Promise<boolean | Error> {
    const failed = new Map<PendingAck, unknown>();
    try {
      // On the store's own file this runs now, synchronously; on a DataSource's, once the app's transaction ends.
      await this.sqlite.write(() => this.writeBatch(batch, failed));
    } catch (error) {
      if (isBusy(error) && !this.closing) return true;
      if (isRefusedWrite(error) && !this.closing) return error as Error;
      for (const ack of batch) ack.reject(error);
      return false;
    }
    settle(batch, failed);
    return false;
  }

  /** Writes each ack of `batch` in the open transaction: `failed` gets those rejected alone. */
  private writeBatch(batch: readonly PendingAck[], failed: Map<PendingAck, unknown>): void {
    try {
      for (let i = 0; i < batch.length;) {
        const end = Math.max(this.runEnd(batch, i), i + 1);
        const run = batch.slice(i, end);
        if (run.length < 2 || !this.writeAll(run)) for (const ack of run) this.writeAlone(ack, failed);
        i = end;
      }
      this.usual?.flush();
    } finally {
      this.usual?.drop();
    }
  }

  /** Where the run of usual completions starting at `i` ends (`i` when the ack at `i` is not one). */
  private runEnd(batch: readonly PendingAck[], i: number): number {
    let end = i;
    while (end < batch.length && batch[end]!.fast && this.usual) end++;
    return end;
  }

  /**
   * A run of usual completions in one savepoint: kept when every one
   * applied, rolled back otherwise, for the caller to write each alone.
   */
  private writeAll(run: readonly PendingAck[]): boolean {
    try {
      this.sqlite.within(() => {
        if (!this.usual!.all(run.map((ack) => ack.fast!))) throw NOT_ALL;
      });
      return true;
    } catch (error) {
      // The file refused the write (full, read-only): the whole transaction is tried again, not each ack alone.
      if (!this.sqlite.db.inTransaction || isRefusedWrite(error)) throw error;
      return false;
    }
  }

  private writeAlone(ack: PendingAck, failed: Map<PendingAck, unknown>): void {
    try {
      if (ack.fast && this.usual?.alone(ack.fast)) return;
      this.sqlite.within(ack.body);
    } catch (error) {
      // An error that ended the transaction itself (SQLite rolls back on some I/O errors): nothing of the batch is left to commit.
      // A file that refused the write (full, read-only): the whole transaction is tried again, this ack with the others.
      if (!this.sqlite.db.inTransaction || isRefusedWrite(error)) throw error;
      failed.set(ack, error);
    }
  }
}

/** Settles each ack of a committed batch: rejected with its own error, or resolved. */
function settle(batch: readonly PendingAck[], failed: ReadonlyMap<PendingAck, unknown>): void {
  for (const ack of batch) {
    if (failed.has(ack)) ack.reject(failed.get(ack));
    else ack.resolve();
  }
}

/** SQLite's "the file is busy" (another process held it past busyTimeout): `SqliteBusyError`, or a raw error of the driver. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}
