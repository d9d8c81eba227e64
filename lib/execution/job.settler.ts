import { Logger } from '@nestjs/common';
import { DiscardJobError, JobAbortedError, StaleAttemptError, type AbortReason } from '../scheduler.errors.js';
import type { AttemptNext } from '../middleware/job-middleware.js';
import type { AttemptRef } from '../store/job-store.js';
import { MAX_KEPT_ERRORS, type Job } from '../store/job.types.js';
import { toDeadLetter } from '../dead-letters/dead-letter.entry.js';
import type { Settled } from './job.attempt.js';
import { safeErrorText, toAttemptError } from './job-errors.js';
import type { ExecutionOutcome, SettlerDeps } from './execution.types.js';
import { timeStore } from '../telemetry/metrics/store-timer.js';

/**
 * Every way an attempt ends but completion (the executor's own hot path):
 * aborts, halts, retries, dead letters and discards, each with exactly one
 * acknowledgement to the store and its event. Never throws for a store
 * error: a stale acknowledgement is reported, any other is logged.
 * @internal
 */
export class JobSettler {
  private readonly logger = new Logger('Scheduler');

  constructor(private readonly deps: SettlerDeps) {}

  async settle(job: Job<unknown>, started: number, settled: Settled, completed: (result: unknown) => Promise<ExecutionOutcome>): Promise<ExecutionOutcome> {
    const { clock, events } = this.deps;
    const now = new Date(clock.now());
    const duration = clock.now() - started;
    const ref: AttemptRef = { id: job.id, attempt: job.attempt };
    const base = { job, duration };

    if (settled.kind === 'abort') {
      const error = new JobAbortedError(settled.reason);
      switch (settled.reason) {
        case 'timeout':
          return this.failure(job, ref, error, 'timeout', duration);
        case 'cancel':
          // The store already holds the job as cancelled (SchedulerService.cancelJob).
          events.emit('job:cancel', { job: { ...job, state: 'cancelled' }, duration, outcome: 'cancelled', reason: settled.detail ?? 'cancel' });
          return { ...base, outcome: 'cancelled', error };
        case 'shutdown':
          await this.ack('release', ref, () => this.deps.store.release(ref, now, toAttemptError(error, job.attempt, now, 'shutdown')));
          return { ...base, outcome: 'released', error };
        case 'preempted':
          // Its handler has returned (the ack waited for it): queued again as if this attempt had not been claimed.
          const ok = await this.ack('unclaim', ref, async () => {
            await this.deps.store.unclaim([ref]);
          });
          // The hand-back may land after the slot it freed was claimed for: its queue claims again now, not at the next poll.
          if (ok) this.deps.onRetry(job.queue, now);
          return { ...base, outcome: 'released', error };
        case 'lease-lost':
          this.logger.warn(`${label(job)} (${job.id}): attempt ${job.attempt} lost its lease; its result is dropped`);
          return { ...base, outcome: 'lease-lost', error };
      }
    }

    const result = settled.result;
    if (result.status === 'completed') return completed(result.result);
    if (result.status === 'halted') {
      const error = new DiscardJobError(`halted by middleware: ${result.reason}`);
      const ok = await this.ack('fail', ref, () => this.deps.store.fail(ref, 'discarded', toAttemptError(error, job.attempt, now, 'halt'), now));
      if (ok) {
        events.emit('job:skip', { name: job.name, schedule: job.schedule, reason: 'halted', job, tick: null, duration, outcome: 'skipped' });
        events.emit('job:discard', { job: { ...job, state: 'discarded' }, duration, outcome: 'halted', reason: result.reason });
      }
      return { ...base, outcome: 'halted', error };
    }
    return this.failure(job, ref, result.error, 'error', duration);
  }

  /** Whether a timeout of this attempt would be retried (its handler then keeps the job until it returns). */
  retriesAfterTimeout(job: Job<unknown>): boolean {
    return this.deps.classifier.settle(new JobAbortedError('timeout'), job.attempt, this.deps.registry.retrySettingsFor(job)).next.action === 'retry';
  }

  /**
   * What follows a failed attempt, for middleware's `onComplete` (called
   * before {@link settle}, which decides the same way): an abort says it,
   * else the classifier does, as for the acknowledgement.
   */
  nextAfter(job: Job<unknown>, reason: AbortReason | undefined, error: unknown): AttemptNext {
    if (reason === 'cancel') return 'cancel';
    if (reason !== undefined && reason !== 'timeout') return 'release';
    const { next } = this.decide(job, reason === 'timeout' ? new JobAbortedError('timeout') : error);
    return next.action === 'retry' ? 'retry' : next.action === 'discard' ? 'discard' : 'dead';
  }

  /** Reports an acknowledgement that did not land (always `false`). */
  ackFailed(operation: string, ref: AttemptRef, error: unknown): false {
    if (error instanceof StaleAttemptError) {
      this.deps.events.emit('job:stale', { jobId: ref.id, attempt: ref.attempt, operation, duration: 0, outcome: 'stale' });
      this.logger.warn(error.message);
    } else {
      this.logger.error(`job ${ref.id}: could not ${operation}: ${describe(error)}`);
    }
    return false;
  }

  private async failure(job: Job<unknown>, ref: AttemptRef, error: unknown, kind: string, duration: number): Promise<ExecutionOutcome> {
    const { clock, events, store } = this.deps;
    const now = new Date(clock.now());
    const { errorClass, next } = this.decide(job, error);
    const attemptError = toAttemptError(error, job.attempt, now, kind, errorClass);
    const base = { job, duration, errorClass };
    if (next.action === 'discard') {
      const ok = await this.ack('fail', ref, () => store.fail(ref, 'discarded', attemptError, now));
      this.logger.warn(`${label(job)} (${job.id}) discarded: ${describe(error)}`);
      if (ok) events.emit('job:discard', { job: { ...job, state: 'discarded' }, duration, outcome: 'discarded', reason: describe(error) });
      return { ...base, outcome: 'discarded', error };
    }
    if (next.action === 'retry') {
      const runAt = new Date(now.getTime() + next.delayMs);
      const ok = await this.ack('retry', ref, () => store.retry(ref, runAt, attemptError));
      this.logger.warn(`${label(job)} (${job.id}) attempt ${job.attempt} failed (${kind}, ${errorClass}): ${describe(error)}; retry at ${runAt.toISOString()}`);
      if (ok) {
        this.deps.onRetry(job.queue, runAt);
        events.emit('job:exception', { job: { ...job, state: 'available', runAt }, duration, outcome: 'retry', error, kind, nextRunAt: runAt });
      }
      return { ...base, outcome: 'retry', error };
    }
    const ok = await this.ack('fail', ref, () => store.fail(ref, 'dead', attemptError, now));
    const why = errorClass === 'terminal' ? 'a terminal error' : `${job.attempt} attempt(s)`;
    this.logger.error(`${label(job)} (${job.id}) failed for good after ${why} (${kind}, ${errorClass}): ${describe(error)}`);
    if (ok) events.emit('job:exception', { job: { ...job, state: 'dead' }, duration, outcome: 'dead', error, kind, nextRunAt: null });
    if (ok && events.has('deadLetter:insert')) {
      const errors = [...job.errors, attemptError].slice(-MAX_KEPT_ERRORS);
      events.emit('deadLetter:insert', { entry: toDeadLetter({ ...job, state: 'dead', finishedAt: now, errors }) });
    }
    return { ...base, outcome: 'dead', error };
  }

  /**
   * The class and next step of a failure. Classifying reads whatever the
   * error holds (getters, a proxy): should that throw, the job's stored
   * attempts decide, so that a failure is never left unacknowledged.
   */
  private decide(job: Job<unknown>, error: unknown): ReturnType<SettlerDeps['classifier']['settle']> {
    try {
      return this.deps.classifier.settle(error, job.attempt, this.deps.registry.retrySettingsFor(job));
    } catch (thrown) {
      this.logger.error(`${label(job)} (${job.id}): classifying its error threw: ${describe(thrown)}`);
      const next =
        error instanceof DiscardJobError
          ? ({ action: 'discard' } as const)
          : job.attempt < job.maxAttempts
            ? ({ action: 'retry', delayMs: 0 } as const)
            : ({ action: 'dead' } as const);
      return { errorClass: 'retryable', next };
    }
  }

  /** Runs one acknowledgement; a stale one is reported, not thrown. */
  private async ack(operation: string, ref: AttemptRef, write: () => Promise<void>): Promise<boolean> {
    try {
      // A retry or a failure ends an attempt: timed as a completion; a release or an unclaim is not timed.
      await (operation === 'retry' || operation === 'fail' ? timeStore(this.deps.storeTimer, 'complete', write) : write());
      return true;
    } catch (error) {
      return this.ackFailed(operation, ref, error);
    }
  }
}

/**
 * How a job is named in logs: a workflow step as `workflow.step`, anything else by its name.
 * @internal
 */
export function label(job: Job<unknown>): string {
  const { workflow, step } = job.meta;
  return typeof workflow === 'string' && typeof step === 'string' ? `${workflow}.${step}` : job.name;
}

/** @internal */
export function describe(error: unknown): string {
  return safeErrorText(error);
}
