import { Logger } from '@nestjs/common';
import type { JsonValue } from '../common/json.js';
import { PayloadTooLargeError, UnstorableResultError } from '../scheduler.errors.js';
import type { AttemptRef } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../store/job-input.validation.js';
import { storableResult } from '../store/storable-output.js';
import type { ExecutionOutcome, ExecutorDeps } from './execution.types.js';
import type { Attempt, Settled } from './job.attempt.js';
import { describe, label, type JobSettler } from './job.settler.js';

const FORGET = { forget: true } as const;

/**
 * What the completions use of the executor's ports.
 * @internal
 */
export type CompletionPorts = Pick<ExecutorDeps, 'store' | 'clock' | 'events' | 'storeTimer' | 'forgetCompleted' | 'stalls'>;

/**
 * The acknowledgement of attempts that completed: the result as JSON (a
 * typed failure when it cannot be stored), the store's write, the
 * `scheduler.store.operation.duration` record, the metrics and the
 * `job:stop` event. `finish` is the executor's end of an attempt.
 * @internal
 */
export class AttemptCompletions {
  private readonly logger = new Logger('Scheduler');
  /** The promise the latest completions wait on, and those attempts (see {@link complete}). */
  private writing: Promise<void> | null = null;
  private written: Attempt[] | null = null;
  /** A completion being timed for `scheduler.store.operation.duration` is in flight. */
  private timing = false;

  constructor(
    private readonly deps: CompletionPorts,
    private readonly settler: JobSettler,
    private readonly finish: (attempt: Attempt, outcome: ExecutionOutcome | null, error?: unknown) => void,
  ) {}

  /**
   * Completion, the hot path: like {@link completed}, but the attempts whose
   * writes answer with one promise (the memory store's settled one, a
   * store's batch) wait on it together, with one `then` for them all: a
   * `then` a job was two closures, their context, a promise and a reaction,
   * ~250 B. They are acknowledged in order, as separate `then`s would be.
   */
  complete(attempt: Attempt, result: unknown): void {
    const timer = this.deps.storeTimer;
    // One completion is timed at a time: a store writes those that arrive meanwhile together with it
    // (one statement, transaction or script), so its record stands for that write, and the others read no clock.
    const sent = timer && !this.timing ? timer.now() : -1;
    if (sent >= 0) this.timing = true;
    const written = this.send(attempt, result);
    if (written instanceof RefusedResult) {
      if (sent >= 0) this.timing = false;
      return void this.unstorable(attempt, written.error, true);
    }
    attempt.ackResult = result;
    if (written === this.writing && this.written !== null) {
      // Joins a write already under way: that write's own record (if any) stands for it.
      if (sent >= 0) this.timing = false;
      this.written.push(attempt);
      return;
    }
    const batch = [attempt];
    this.writing = written;
    this.written = batch;
    written.then(
      () => this.completeWritten(batch, sent, true),
      (error: unknown) => this.completeWritten(batch, sent, false, error),
    );
  }

  /**
   * The writes of `batch` answered: written (`ok`), or refused with `error`.
   * `scheduler.store.operation.duration` records the batch once, from
   * `sent` (-1: not timed): completions the store answers with one promise
   * are one write.
   */
  private completeWritten(batch: Attempt[], sent: number, ok: boolean, error?: unknown): void {
    if (this.written === batch) {
      this.writing = null;
      this.written = null;
    }
    const timer = this.deps.storeTimer;
    if (timer && sent >= 0) {
      this.timing = false;
      timer.record('complete', sent, ok ? undefined : error);
    }
    for (const attempt of batch) {
      const { ackDuration: duration, ackResult: result, ackValue: value } = attempt;
      attempt.ackResult = undefined;
      attempt.ackValue = null;
      if (ok) this.acked(attempt, duration, result, value, true, true);
      else if (error instanceof UnstorableResultError) void this.unstorable(attempt, error, true);
      else {
        const ref: AttemptRef = { id: attempt.job.id, attempt: attempt.job.attempt };
        this.acked(attempt, duration, result, value, this.settler.ackFailed('complete', ref, error), true);
      }
    }
  }

  /**
   * Completion, as the settler calls it. Not an `async` function: its frame and
   * promise, allocated at every call, cost more than one `then` pair (a
   * memory-store drain allocated 2.88 KB a job with it, 2.64 without).
   */
  completed(attempt: Attempt, result: unknown, finish = true): Promise<ExecutionOutcome> {
    const timer = this.deps.storeTimer;
    const sent = timer ? timer.now() : 0;
    const written = this.send(attempt, result);
    if (written instanceof RefusedResult) return this.unstorable(attempt, written.error, finish);
    const { ackDuration: duration, ackValue: value } = attempt;
    return written.then(
      () => {
        if (timer) timer.record('complete', sent);
        return this.acked(attempt, duration, result, value, true, finish);
      },
      (error: unknown) => {
        if (timer) timer.record('complete', sent, error);
        return error instanceof UnstorableResultError
          ? this.unstorable(attempt, error, finish)
          : this.acked(
              attempt,
              duration,
              result,
              value,
              this.settler.ackFailed('complete', { id: attempt.job.id, attempt: attempt.job.attempt }, error),
              finish,
            );
      },
    );
  }

  /**
   * Hands a completion to the store: the result as JSON (refused when it
   * cannot be), then the write. What its acknowledgement reports is kept on
   * the attempt (no object a job): the duration and the JSON value. Its
   * callers time the write (`scheduler.store.operation.duration`) in the
   * continuation the completion has anyway, rather than by a wrapper of the store.
   */
  private send(attempt: Attempt, result: unknown): Promise<void> | RefusedResult {
    const { clock, store } = this.deps;
    const job = attempt.job;
    const now = clock.now();
    // The handler returned just now: with the heartbeat overdue, it held the event loop.
    const stalls = this.deps.stalls;
    if (stalls && now > stalls.overdueAt) stalls.returned(job, attempt.definition?.source, now);
    let value: JsonValue | null;
    try {
      value = result === undefined || result === null ? null : this.resultJson(job, result);
    } catch (error) {
      return new RefusedResult(error);
    }
    const forget = this.deps.forgetCompleted === true && job.tickKey === null;
    attempt.ackDuration = now - attempt.started;
    attempt.ackValue = value;
    try {
      return store.complete({ id: job.id, attempt: job.attempt }, value, new Date(now), forget ? FORGET : undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A result the store cannot keep (too large, or refused by the database):
   * the attempt fails with the error, retried or dead-lettered per the job's
   * policy. Left running, the job would be rescued and run again.
   */
  private unstorable(attempt: Attempt, error: unknown, finish: boolean): Promise<ExecutionOutcome> {
    const failed: Settled = { kind: 'chain', result: { status: 'failed', error } };
    return this.settler
      .settle(attempt.job, attempt.started, failed, () => Promise.reject(error))
      .then((outcome) => {
        if (finish) this.finish(attempt, outcome);
        return outcome;
      });
  }

  /** The completion is written (`ok`), or its failure reported. */
  private acked(attempt: Attempt, duration: number, result: unknown, value: JsonValue | null, ok: boolean, finish: boolean): ExecutionOutcome {
    const { events } = this.deps;
    const job = attempt.job;
    if (ok && attempt.records !== null) attempt.records.completed(job, duration);
    if (ok && events.has('job:stop')) events.emit('job:stop', { job: { ...job, state: 'completed', result: value }, duration, outcome: 'completed', result });
    const outcome: ExecutionOutcome = { job, duration, outcome: 'completed', result };
    if (finish) this.finish(attempt, outcome);
    return outcome;
  }

  /**
   * A result as stored: JSON with U+0000 and lone surrogates turned into
   * U+FFFD, or null (with a warning) when it is not JSON.
   * @throws UnstorableResultError when it is over the store's `maxPayloadBytes`.
   */
  private resultJson(job: Job<unknown>, result: unknown): JsonValue | null {
    const limit = this.deps.store.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    return toJson(job.id, result, limit, (e) => this.logger.warn(`${label(job)} (${job.id}): result is not JSON (${describe(e)}); stored as null`));
  }
}

function toJson(jobId: string, value: unknown, maxPayloadBytes: number, warn: (error: unknown) => void): JsonValue | null {
  if (value === undefined || value === null) return null;
  let text: string | null;
  try {
    text = storableResult(jobId, value as JsonValue, maxPayloadBytes);
  } catch (error) {
    // Too large: a typed failure. Not JSON at all (a cycle, a BigInt): kept as null, as it always was.
    if (error instanceof UnstorableResultError && error.cause instanceof PayloadTooLargeError) throw error;
    warn(error instanceof UnstorableResultError ? error.cause : error);
    return null;
  }
  return text === null ? null : (JSON.parse(text) as JsonValue);
}

/** A result {@link JobExecutor} could not turn into JSON the store keeps: the attempt fails with `error`. */
class RefusedResult {
  constructor(readonly error: unknown) {}
}
