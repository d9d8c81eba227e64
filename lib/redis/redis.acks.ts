import { RetrySleeps } from '../common/retry-sleeps.js';
import { StaleAttemptError, StoreUnavailableError } from '../scheduler.errors.js';
import type { AttemptRef } from '../store/job-store.js';
import type { RedisConnection, ScriptArg } from './redis.client.js';
import { isRedisBusyReply, isRedisConnectionError } from './redis.errors.js';

/**
 * Completions one script call carries at most. A drain of no-op jobs sends
 * ~50-200 per call; more would only make one script hold the server longer.
 */
const MAX_BATCH = 500;
/** Result text (UTF-16 units) one call carries at most beyond its first completion: large results go in smaller calls. */
const MAX_BATCH_RESULT_CHARS = 16 * 1_048_576;
/**
 * Calls under way before new completions wait for one to end (and then go
 * out together, in a larger call). Redis runs scripts one at a time, so more
 * calls in flight would only be smaller ones.
 */
const MAX_IN_FLIGHT = 2;
/** Waits between tries of an ack while the server is out of reach: doubling, capped. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * An acknowledgement's operation: `complete` (kept as history), `forget`
 * (deleted), `retry`, `dead`, `discarded`, `release`.
 * @internal
 */
export type AckOp = 'complete' | 'forget' | 'retry' | 'dead' | 'discarded' | 'release';

interface Ack {
  op: AckOp;
  ref: AttemptRef;
  at: number;
  /** The result's JSON ('' for null), or the error's JSON. */
  payload: string;
  errorClass: string;
}

interface PendingCompletion extends Ack {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Writes the acknowledgements of a Redis store so that none is lost to an
 * outage, and none written is reported stale:
 *
 * - the `complete` calls of one turn of the event loop go out as ONE script
 *   call (`schedAckMany`): one round trip and one script run for N jobs
 *   (one `schedAck` each cost the server ~24 µs a job, and the process a
 *   command a job, draining 20,000 no-op jobs); each completion is still
 *   fenced, and its caller resolved or rejected with StaleAttemptError, alone;
 * - a call that fails because the server is out of reach (past ioredis's
 *   own reconnection attempts: a restart, a failover, a partition) or
 *   refused it for the moment (LOADING, BUSY, READONLY…) is sent again, with
 *   backoff, until it lands; its callers wait for that. Given up, the job
 *   would stay `running` until rescued, and run twice;
 * - an ack answered STALE after its connection dropped while it was under
 *   way (its first run may have landed and its answer been lost, then
 *   ioredis or this writer sent it again) is checked: when the job is as
 *   that ack leaves it, its caller is resolved;
 * - `close` writes what is pending and waits a bounded time, then rejects
 *   what is still retrying with StoreUnavailableError.
 * @internal
 */
export class RedisAcks {
  private pending: PendingCompletion[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  /** Completion calls under way (retries through an outage included). */
  private completing = 0;
  private readonly inflight = new Set<Promise<void>>();
  private readonly sleeps = new RetrySleeps();
  private aborted = false;
  /** Connections of the client that closed so far: a call across one may have run without its answer arriving. */
  private drops = 0;
  private readonly onClose = (): void => {
    this.drops++;
  };
  /** Rejects (StoreUnavailableError) when `close` gives up: a call still waiting in ioredis's offline queue stops being waited for. */
  private readonly abortion: Promise<never>;
  private abort!: (error: Error) => void;

  constructor(private readonly redis: RedisConnection) {
    redis.client.on('close', this.onClose);
    this.abortion = new Promise<never>((_, reject) => (this.abort = reject));
    this.abortion.catch(() => undefined);
  }

  /** Queues a completion for the next call; resolves once written. */
  complete(op: 'complete' | 'forget', ref: AttemptRef, at: number, result: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ op, ref, at, payload: result, errorClass: '', resolve, reject });
      this.schedule();
    });
  }

  /** Writes one ack (retry, dead, discarded, release) with `schedAck`; resolves once written. */
  write(op: Exclude<AckOp, 'complete' | 'forget'>, ref: AttemptRef, at: number, error: string, errorClass: string): Promise<void> {
    return this.track(this.writeOne({ op, ref, at, payload: error, errorClass }));
  }

  /** Sends what is pending, waits up to `timeoutMs` for acks in flight, then gives up on the rest (StoreUnavailableError). */
  async close(timeoutMs: number): Promise<void> {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    while (this.pending.length > 0) this.send();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled(this.inflight), expired]);
    clearTimeout(timer);
    this.aborted = true;
    this.abort(new StoreUnavailableError('closed before the acknowledgement could be written'));
    this.sleeps.wakeAll();
    await Promise.allSettled(this.inflight);
    this.redis.client.off('close', this.onClose);
  }

  private schedule(): void {
    if (this.completing < MAX_IN_FLIGHT) this.scheduled ??= setImmediate(() => this.sendNext());
  }

  private sendNext(): void {
    this.scheduled = null;
    if (this.pending.length > 0 && this.completing < MAX_IN_FLIGHT) this.send();
  }

  private send(): void {
    let count = 0;
    let chars = 0;
    while (count < this.pending.length && count < MAX_BATCH) {
      const size = this.pending[count]!.payload.length;
      if (count > 0 && chars + size > MAX_BATCH_RESULT_CHARS) break;
      chars += size;
      count++;
    }
    const batch = this.pending.splice(0, count);
    this.completing++;
    void this.track(
      this.writeBatch(batch).finally(() => {
        this.completing--;
        if (this.pending.length > 0) this.schedule();
      }),
    );
  }

  private async writeBatch(batch: PendingCompletion[]): Promise<void> {
    const args = batch.flatMap((c) => [c.op, c.ref.id, String(c.ref.attempt), c.at, c.payload, '']);
    let outcome: { answer: unknown; interrupted: boolean };
    try {
      outcome = await this.persist('schedAckMany', args);
    } catch (error) {
      for (const c of batch) c.reject(error);
      return;
    }
    const answers = outcome.answer as string[];
    const stale = batch.filter((_, i) => answers[i] !== 'OK');
    for (const [i, c] of batch.entries()) if (answers[i] === 'OK') c.resolve();
    await this.settleStale(stale, outcome.interrupted);
  }

  private async writeOne(ack: Ack): Promise<void> {
    const args = [ack.op, ack.ref.id, String(ack.ref.attempt), ack.at, ack.payload, ack.errorClass];
    const { answer, interrupted } = await this.persist('schedAck', args);
    if (answer === 'OK') return;
    if (interrupted && (await this.landed([ack]))[0]) return;
    throw new StaleAttemptError(ack.ref.id, ack.ref.attempt);
  }

  /** Rejects acks answered STALE, but for those an interrupted call had in fact written. */
  private async settleStale(stale: PendingCompletion[], interrupted: boolean): Promise<void> {
    if (stale.length === 0) return;
    let landed: boolean[] = [];
    if (interrupted) {
      try {
        landed = await this.landed(stale);
      } catch (error) {
        for (const c of stale) c.reject(error);
        return;
      }
    }
    for (const [i, c] of stale.entries()) {
      if (landed[i]) c.resolve();
      else c.reject(new StaleAttemptError(c.ref.id, c.ref.attempt));
    }
  }

  /** Whether each ack is already written: its job is as the ack leaves it (see ACK_LANDED). */
  private async landed(acks: readonly Ack[]): Promise<boolean[]> {
    const args = acks.flatMap((c) => [c.op, c.ref.id, String(c.ref.attempt), c.op === 'complete' || c.op === 'forget' ? '' : c.payload]);
    const { answer } = await this.persist('schedAckLanded', args);
    return (answer as number[]).map((yes) => Number(yes) === 1);
  }

  /**
   * Runs a script until the server answers it (or the writer is closed);
   * `interrupted` when a connection closed while a try was under way, so an
   * earlier try may have run without its answer arriving.
   */
  private async persist(script: 'schedAck' | 'schedAckMany' | 'schedAckLanded', args: ScriptArg[]): Promise<{ answer: unknown; interrupted: boolean }> {
    let delay = RETRY_FIRST_MS;
    let interrupted = false;
    for (;;) {
      const drops = this.drops;
      try {
        const answer = await Promise.race([this.redis.run(script, ...args), this.abortion]);
        return { answer, interrupted: interrupted || this.drops !== drops };
      } catch (error) {
        const busy = isRedisBusyReply(error);
        if (!busy && !isRedisConnectionError(error)) throw error;
        // A busy reply wrote nothing; only a connection lost under way leaves that unknown.
        if (!busy || this.drops !== drops) interrupted = true;
        if (!this.aborted) await this.sleeps.sleep(delay);
        if (this.aborted) throw new StoreUnavailableError('closed before the acknowledgement could be written', { cause: error });
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
