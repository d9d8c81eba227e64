import type pg from 'pg';
import { RetrySleeps } from '../common/retry-sleeps.js';
import { StaleAttemptError, UnstorableResultError } from '../scheduler.errors.js';
import type { AttemptRef } from '../store/job-store.js';
import type { JobState } from '../store/job.types.js';
import { isConnectionError, isRefusedWrite, isTransientError, StoreUnavailableError } from './postgres.errors.js';
import type { ackStatements, CompleteRecord } from './sql/ack.sql.js';
import type { Statement } from './sql/statement.js';
import { within } from '../common/within.js';

/** Waits between attempts to write an ack while the database is down: doubling, capped. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;
/** Larger batches gain little (the statement is already one round trip) and hold row locks longer. */
const MAX_BATCH = 500;
/** Result text (UTF-16 units) one statement carries at most, beyond its first job: large results go in smaller batches. */
const MAX_BATCH_RESULT_CHARS = 16 * 1_048_576;
/**
 * Completion statements one store has in flight before the next waits for
 * one to end. Uncapped, every connection of the pool completed jobs of the
 * same pages at once: PostgreSQL could not prune those pages, 45 % of the
 * completions were not HOT, and a drain cost 21 % more PostgreSQL CPU a job
 * than with the completions queued behind one or two statements (which
 * then carry more jobs each, at no loss of jobs/s).
 */
const MAX_COMPLETIONS_IN_FLIGHT = 2;

/**
 * What a written ack leaves behind: the state (or no row at all), and the error it appended (JSON text), if any.
 * @internal
 */
export interface AckTarget {
  /** The state the ack leaves the job in (a hand-back leaves it `available`, or `dead` once its free hand-backs are spent). */
  state: JobState | 'gone' | readonly JobState[];
  error?: string;
}

interface PendingComplete {
  ref: AttemptRef;
  record: CompleteRecord;
  resolve(): void;
  reject(error: unknown): void;
}

type Exec = (statement: Statement) => Promise<pg.QueryResult>;

/** How long `close` waits, once it gave up, for the retries it woke to end. */
const ABORTED_WAIT_MS = 1_000;

/**
 * Writes acknowledgements so none is lost:
 *
 * - `complete` calls that arrive in the same tick of the event loop are
 *   written by ONE statement (one round trip, one commit for N jobs); each
 *   caller is resolved, or rejected with StaleAttemptError, on its own.
 *   While {@link MAX_COMPLETIONS_IN_FLIGHT} such statements run, new
 *   completions wait and go out together when one ends.
 * - An ack that fails because the database is unreachable, that the
 *   server cancelled for the moment (a lock wait past `statement_timeout`
 *   behind another session, a deadlock), or that it refused for a condition
 *   of the database (read only, a privilege revoked, a full disk: see
 *   `isRefusedWrite`) is written again, with backoff,
 *   until it lands; its caller's promise waits for that. Given up, its job
 *   would stay running in the store until rescued and run again, and a
 *   batch split into single rows would wait on the same lock once per row,
 *   each holding a connection the claims need. A retry after a dropped
 *   connection that then matches no row checks whether the first try had
 *   committed (same state, attempt and error), so a written ack is never
 *   reported stale.
 * - `close` writes what is pending and waits a bounded time for it.
 * @internal
 */
export class AckWriter {
  private pending: PendingComplete[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  /** Completion statements under way (retries through an outage included). */
  private completing = 0;
  private readonly inflight = new Set<Promise<void>>();
  private readonly sleeps = new RetrySleeps();
  private aborted = false;

  constructor(
    private readonly exec: Exec,
    private readonly sql: ReturnType<typeof ackStatements>,
  ) {}

  /** Queues a `complete` for the next batch; resolves once written. */
  complete(ref: AttemptRef, record: CompleteRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ref, record, resolve, reject });
      this.schedule();
    });
  }

  /** Writes one ack statement (retry, fail, release); resolves once written. */
  write(ref: AttemptRef, statement: Statement, target: AckTarget): Promise<void> {
    return this.track(this.writeOne(ref, statement, target));
  }

  /** Writes what is pending, waits up to `timeoutMs` for acks in flight, then gives up on the rest. */
  async close(timeoutMs: number): Promise<void> {
    while (this.pending.length > 0) this.flush(true);
    await this.settled(timeoutMs);
    this.aborted = true;
    this.sleeps.wakeAll();
    // Retries asleep end at once. A statement still out on a silent socket would hold the close until its
    // own bound (statementTimeout, ~30 s): it is not waited for past a second, and the pool's end cuts it off.
    await this.settled(ABORTED_WAIT_MS);
  }

  /** Resolves once every ack in flight has settled, or after `ms`. */
  private settled(ms: number): Promise<unknown> {
    return within(Promise.allSettled(this.inflight), ms, 'acknowledgements in flight').catch(() => undefined);
  }

  /** A flush on the next turn of the event loop, unless the cap holds it until a completion ends. */
  private schedule(): void {
    if (this.completing < MAX_COMPLETIONS_IN_FLIGHT) this.scheduled ??= setImmediate(() => this.flush());
  }

  /** `force`: past the cap (closing). */
  private flush(force = false): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    if (!force && this.completing >= MAX_COMPLETIONS_IN_FLIGHT) return;
    // One ack per job per statement: a second ack of the same job (always
    // stale, but it must be *reported* stale) goes in the next batch. Kept
    // and forgotten completions are different statements.
    const kept: PendingComplete[] = [];
    const forgotten: PendingComplete[] = [];
    const rest: PendingComplete[] = [];
    const ids = new Set<string>();
    let chars = 0;
    for (const item of this.pending) {
      const batch = item.record.forget ? forgotten : kept;
      const size = item.record.result?.length ?? 0;
      if (batch.length < MAX_BATCH && !ids.has(item.ref.id) && (batch.length === 0 || chars + size <= MAX_BATCH_RESULT_CHARS)) {
        ids.add(item.ref.id);
        chars += size;
        batch.push(item);
      } else {
        rest.push(item);
      }
    }
    this.pending = rest;
    if (kept.length > 0) this.start(kept);
    if (forgotten.length > 0) this.start(forgotten);
    if (rest.length > 0) this.schedule();
  }

  private start(batch: PendingComplete[]): void {
    this.completing++;
    void this.track(
      this.writeBatch(batch).finally(() => {
        this.completing--;
        if (this.pending.length > 0) this.schedule();
      }),
    );
  }

  private async writeBatch(batch: PendingComplete[], split = true): Promise<void> {
    let outcome: { result: pg.QueryResult; interrupted: boolean };
    try {
      outcome = await this.persist(() => this.exec(this.sql.completeMany(batch.map((item) => item.record))));
    } catch (error) {
      if (!split || batch.length === 1 || isConnectionError(error)) {
        for (const item of batch) item.reject(batch.length === 1 ? refused(item, error) : error);
        return;
      }
      // One bad row (say a result PostgreSQL cannot store) must not fail its
      // neighbours: write each on its own.
      await Promise.all(batch.map((item) => this.writeBatch([item], false)));
      return;
    }
    const { count, written } = outcome.result.rows[0] as { count: number; written: string[] | null };
    // The common case: every attempt still owned its job.
    if (count === batch.length) {
      for (const item of batch) item.resolve();
      return;
    }
    const owned = new Set(written ?? []);
    const unsure: PendingComplete[] = [];
    for (const item of batch) {
      if (owned.has(`${item.ref.id}:${item.ref.attempt}`)) item.resolve();
      else if (outcome.interrupted) unsure.push(item);
      else item.reject(new StaleAttemptError(item.ref.id, item.ref.attempt));
    }
    await Promise.all(
      unsure.map(async (item) => {
        try {
          if (await this.landed(item.ref, { state: item.record.forget ? 'gone' : 'completed' })) return item.resolve();
          item.reject(new StaleAttemptError(item.ref.id, item.ref.attempt));
        } catch (error) {
          item.reject(error);
        }
      }),
    );
  }

  private async writeOne(ref: AttemptRef, statement: Statement, target: AckTarget): Promise<void> {
    const { result, interrupted } = await this.persist(() => this.exec(statement));
    if ((result.rowCount ?? 0) > 0) return;
    if (interrupted && (await this.landed(ref, target))) return;
    throw new StaleAttemptError(ref.id, ref.attempt);
  }

  /** Whether an earlier, interrupted try of this ack had in fact been committed. */
  private async landed(ref: AttemptRef, target: AckTarget): Promise<boolean> {
    const { result } = await this.persist(() => this.exec(this.sql.ackState(ref.id)));
    const row = result.rows[0] as { state: string; attempt: number; last_error: Record<string, unknown> | null } | undefined;
    if (target.state === 'gone') return !row;
    const states: readonly string[] = typeof target.state === 'string' ? [target.state] : target.state;
    if (!row || !states.includes(row.state) || Number(row.attempt) !== ref.attempt) return false;
    if (target.error === undefined) return true;
    const mine = JSON.parse(target.error) as Record<string, unknown>;
    const last = row.last_error ?? {};
    return ['attempt', 'at', 'kind', 'message'].every((key) => last[key] === mine[key]);
  }

  /** Runs `write` until it reaches the database (or the writer is closed). */
  private async persist(write: () => Promise<pg.QueryResult>): Promise<{ result: pg.QueryResult; interrupted: boolean }> {
    let delay = RETRY_FIRST_MS;
    let interrupted = false;
    for (;;) {
      try {
        return { result: await write(), interrupted };
      } catch (error) {
        // A write refused for a condition of the database (read only after a failover, a privilege revoked, a full
        // disk) wrote nothing either: given up, its job would be rescued and run again once the condition clears.
        const transient = isTransientError(error) || isRefusedWrite(error);
        if (!transient && !isConnectionError(error)) throw error;
        if (this.aborted) throw new StoreUnavailableError('closed before the acknowledgement could be written', { cause: error });
        // A cancelled or rolled-back statement wrote nothing; only a lost connection leaves that unknown.
        if (!transient) interrupted = true;
        await this.sleeps.sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  private track(work: Promise<void>): Promise<void> {
    this.inflight.add(work);
    const forget = (): void => void this.inflight.delete(work);
    work.then(forget, forget);
    return work;
  }
}

/**
 * SQLSTATE classes of a row the database will never take, however often it
 * is sent: 22 (data exception: U+0000, invalid Unicode or JSON, a number out
 * of range) and 54 (a program limit: nesting too deep, a value too large).
 */
const REFUSED_ROW = /^(22|54)/;

/**
 * A completion of one job that the database refused because of its result:
 * an {@link UnstorableResultError}, which the executor turns into a failed
 * attempt (retried or dead-lettered) instead of leaving the job running to be
 * rescued and run again. Any other error is passed on as it is.
 */
function refused(item: PendingComplete, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (item.record.forget || typeof code !== 'string' || !REFUSED_ROW.test(code)) return error;
  return new UnstorableResultError(item.ref.id, `the database refused it (${code}: ${(error as Error).message})`, { cause: error });
}
