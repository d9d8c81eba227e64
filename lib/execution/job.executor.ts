import { Logger } from '@nestjs/common';
import { context, type Span } from '@opentelemetry/api';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { JsonValue } from '../common/json.js';
import type { JobMiddleware } from '../middleware/job-middleware.js';
import { runMiddlewareChain } from '../middleware/middleware.chain.js';
import type { JobDefinition, SchedulerRegistry } from '../scheduler.registry.js';
import { DiscardJobError, JobAbortedError, RetryJobError, StaleAttemptError } from '../scheduler.errors.js';
import type { AttemptRef, JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import { endAttemptSpan, startAttemptSpan } from '../telemetry/tracing.js';
import type { JobContext } from './job-context.js';
import { toAttemptError } from './job-errors.js';
import { exponentialBackoff } from './backoff.js';
import type { RunningJobs } from './running-jobs.js';
import { Attempt, AttemptContext, type Settled } from './job.attempt.js';

/** What became of one attempt. */
export interface ExecutionOutcome {
  job: Job<unknown>;
  outcome: 'completed' | 'retry' | 'dead' | 'discarded' | 'cancelled' | 'halted' | 'released' | 'lease-lost';
  result?: unknown;
  error?: unknown;
  /** Milliseconds the attempt took. */
  duration: number;
}

/** What the executor needs from the rest of the scheduler. */
export interface ExecutorDeps {
  store: JobStore;
  registry: SchedulerRegistry;
  clock: Clock;
  events: SchedulerEvents;
  running: RunningJobs;
  /** Called when a job is set to retry at `runAt` (so its queue wakes on time). */
  onRetry(queue: string, runAt: Date): void;
  /** Global middleware followed by the job's own, as instances. */
  middlewareFor(definition: JobDefinition): JobMiddleware[];
  /**
   * `retention.completed: 0`: completed jobs are deleted rather than kept.
   * Not for schedule ticks: their row holds the (schedule, tick) key that
   * keeps a tick from being planned twice.
   */
  forgetCompleted?: boolean;
}

const FORGET = { forget: true } as const;
const RESOLVED = Promise.resolve();

/**
 * Runs one claimed attempt: context and signal, timeout, middleware chain,
 * handler, span and events, then exactly one acknowledgement to the store.
 * Never throws: a handler's failure is recorded, logged and emitted.
 */
export class JobExecutor {
  private readonly logger = new Logger('Scheduler');

  constructor(private readonly deps: ExecutorDeps) {}

  /**
   * Runs one attempt. `onHandlerDone` is called once the handler has
   * finished (or was aborted), before the acknowledgement is written: a queue
   * runner frees the slot there, so acknowledgements (batched by the store)
   * overlap with the next jobs instead of holding a slot for a round trip.
   */
  execute(job: Job<unknown>, onHandlerDone?: () => void): Promise<ExecutionOutcome> {
    const { clock, events, registry, running } = this.deps;
    const started = clock.now();
    let resolve!: (outcome: ExecutionOutcome) => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<ExecutionOutcome>((ok, fail) => ((resolve = ok), (reject = fail)));
    let timer: TimerHandle | null = null;
    let span: Span | null = null;
    const attempt = new Attempt(
      job,
      (self, settled) => {
        if (timer !== null) clock.clearTimeout(timer);
        onHandlerDone?.();
        this.settle(job, started, settled).then(
          (outcome) => {
            if (span) endAttemptSpan(span, outcome.outcome, outcome.outcome === 'completed' || outcome.outcome === 'halted' ? undefined : outcome.error);
            running.remove(job.id, self);
            resolve(outcome);
          },
          (error: unknown) => {
            running.remove(job.id, self);
            reject(error);
          },
        );
      },
      this.beat,
    );
    attempt.done = done;
    running.add(attempt);

    const definition = registry.findDefinition(job.name);
    if (!definition) {
      events.emit('job:start', { job, duration: 0, outcome: 'started' });
      // A rolling deploy may briefly run nodes without this handler: retry
      // with backoff (then dead-letter) rather than discard the job.
      attempt.chainDone({ status: 'failed', error: new Error(`no handler is registered under "${job.name}" on this node`) });
      return done;
    }
    if (job.timeout !== null) timer = clock.setTimeout(() => attempt.abort('timeout'), job.timeout);
    const ctx = new AttemptContext(attempt);
    if (events.has('job:start')) events.emit('job:start', { job, duration: 0, outcome: 'started' });
    const traced = startAttemptSpan(job);
    span = traced.span;
    const middleware = this.deps.middlewareFor(definition);
    // The handler starts in a microtask, never inside the caller's stack (a
    // runner launching a buffer of jobs would otherwise recurse through them).
    // A promise reaction rather than queueMicrotask, which wraps every
    // callback in an AsyncResource.
    void RESOLVED.then(() =>
      context.with(traced.ctx, () => {
        if (middleware.length === 0) return invoke(definition, ctx, attempt);
        void runMiddlewareChain(
          middleware,
          ctx,
          () => Promise.resolve(definition.run(ctx)),
          () => clock.now(),
          (error) => this.logger.error(`${label(job)}: middleware onComplete threw: ${describe(error)}`),
        ).then((result) => attempt.chainDone(result));
      }),
    );
    return done;
  }

  /** A heartbeat of one attempt; false when it no longer owns its job. */
  private readonly beat = async (job: Job<unknown>): Promise<boolean> => {
    const lost = await this.deps.store.heartbeat([{ id: job.id, attempt: job.attempt }], new Date(this.deps.clock.now()));
    return lost.length === 0;
  };

  /**
   * The outcome's acknowledgement and events. Completion, the hot path, has
   * its own small async function: an async function's frame is allocated
   * whole at every call, and this dispatcher's many branches made ~1 KB of
   * garbage per job.
   */
  private settle(job: Job<unknown>, started: number, settled: Settled): Promise<ExecutionOutcome> {
    if (settled.kind === 'chain' && settled.result.status === 'completed') return this.completed(job, started, settled.result.result);
    return this.settleOther(job, started, settled);
  }

  private async completed(job: Job<unknown>, started: number, result: unknown): Promise<ExecutionOutcome> {
    const { clock, events, store } = this.deps;
    const now = new Date(clock.now());
    const duration = now.getTime() - started;
    const ref: AttemptRef = { id: job.id, attempt: job.attempt };
    const value = result === undefined || result === null ? null : this.resultJson(job, result);
    const forget = this.deps.forgetCompleted === true && job.tickKey === null;
    let ok = true;
    try {
      await store.complete(ref, value, now, forget ? FORGET : undefined);
    } catch (error) {
      ok = this.ackFailed('complete', ref, error);
    }
    if (ok && events.has('job:stop')) events.emit('job:stop', { job: { ...job, state: 'completed', result: value }, duration, outcome: 'completed', result });
    return { job, duration, outcome: 'completed', result };
  }

  private async settleOther(job: Job<unknown>, started: number, settled: Settled): Promise<ExecutionOutcome> {
    const { clock, events } = this.deps;
    const now = new Date(clock.now());
    const duration = clock.now() - started;
    const ref: AttemptRef = { id: job.id, attempt: job.attempt };
    const base = { job, duration };

    if (settled.kind === 'abort') {
      const error = new JobAbortedError(settled.reason);
      switch (settled.reason) {
        case 'timeout':
          return this.failure(job, ref, error, 'timeout', duration, undefined);
        case 'cancel':
          // The store already holds the job as cancelled (SchedulerService.cancelJob).
          events.emit('job:cancel', { job: { ...job, state: 'cancelled' }, duration, outcome: 'cancelled', reason: settled.detail ?? 'cancel' });
          return { ...base, outcome: 'cancelled', error };
        case 'shutdown':
          await this.ack('release', ref, () => this.deps.store.release(ref, now, toAttemptError(error, job.attempt, now, 'shutdown')));
          return { ...base, outcome: 'released', error };
        case 'lease-lost':
          this.logger.warn(`${label(job)} (${job.id}): attempt ${job.attempt} lost its lease; its result is dropped`);
          return { ...base, outcome: 'lease-lost', error };
      }
    }

    const result = settled.result;
    if (result.status === 'completed') return this.completed(job, started, result.result);
    if (result.status === 'halted') {
      const error = new DiscardJobError(`halted by middleware: ${result.reason}`);
      const ok = await this.ack('fail', ref, () => this.deps.store.fail(ref, 'discarded', toAttemptError(error, job.attempt, now, 'halt'), now));
      if (ok) {
        events.emit('job:skip', { name: job.name, schedule: job.schedule, reason: 'halted', job, tick: null, duration, outcome: 'skipped' });
        events.emit('job:discard', { job: { ...job, state: 'discarded' }, duration, outcome: 'halted', reason: result.reason });
      }
      return { ...base, outcome: 'halted', error };
    }
    return this.failure(job, ref, result.error, 'error', duration, result.error instanceof RetryJobError ? result.error.delay : undefined);
  }

  private async failure(
    job: Job<unknown>,
    ref: AttemptRef,
    error: unknown,
    kind: string,
    duration: number,
    requestedDelay: number | undefined,
  ): Promise<ExecutionOutcome> {
    const { clock, events, store, registry } = this.deps;
    const now = new Date(clock.now());
    const attemptError = toAttemptError(error, job.attempt, now, kind);
    const base = { job, duration };
    if (error instanceof DiscardJobError) {
      const ok = await this.ack('fail', ref, () => store.fail(ref, 'discarded', attemptError, now));
      this.logger.warn(`${label(job)} (${job.id}) discarded: ${error.message}`);
      if (ok) events.emit('job:discard', { job: { ...job, state: 'discarded' }, duration, outcome: 'discarded', reason: error.message });
      return { ...base, outcome: 'discarded', error };
    }
    if (job.attempt < job.maxAttempts) {
      const backoff = registry.findDefinition(job.name)?.options.backoff;
      const delay = requestedDelay ?? safeDelay(() => (backoff ? backoff(job.attempt, error) : exponentialBackoff(job.attempt)));
      const runAt = new Date(now.getTime() + delay);
      const ok = await this.ack('retry', ref, () => store.retry(ref, runAt, attemptError));
      this.logger.warn(`${label(job)} (${job.id}) attempt ${job.attempt}/${job.maxAttempts} failed (${kind}): ${describe(error)}; retry at ${runAt.toISOString()}`);
      if (ok) {
        this.deps.onRetry(job.queue, runAt);
        events.emit('job:exception', { job: { ...job, state: 'available', runAt }, duration, outcome: 'retry', error, kind, nextRunAt: runAt });
      }
      return { ...base, outcome: 'retry', error };
    }
    const ok = await this.ack('fail', ref, () => store.fail(ref, 'dead', attemptError, now));
    this.logger.error(`${label(job)} (${job.id}) failed for good after ${job.attempt} attempt(s) (${kind}): ${describe(error)}`);
    if (ok) events.emit('job:exception', { job: { ...job, state: 'dead' }, duration, outcome: 'dead', error, kind, nextRunAt: null });
    return { ...base, outcome: 'dead', error };
  }

  /** Runs one acknowledgement; a stale one is reported, not thrown. */
  private async ack(operation: string, ref: AttemptRef, write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      return this.ackFailed(operation, ref, error);
    }
  }

  /** Reports an acknowledgement that did not land (always `false`). */
  private ackFailed(operation: string, ref: AttemptRef, error: unknown): false {
    if (error instanceof StaleAttemptError) {
      this.deps.events.emit('job:stale', { jobId: ref.id, attempt: ref.attempt, operation, duration: 0, outcome: 'stale' });
      this.logger.warn(error.message);
    } else {
      this.logger.error(`job ${ref.id}: could not ${operation}: ${describe(error)}`);
    }
    return false;
  }

  /** A result as stored: JSON, or null (with a warning) when it is not. */
  private resultJson(job: Job<unknown>, result: unknown): JsonValue | null {
    return toJson(result, (e) => this.logger.warn(`${label(job)} (${job.id}): result is not JSON (${describe(e)}); stored as null`));
  }
}

/** Runs a handler without middleware: a returned value completes the attempt, a throw or rejection fails it. */
function invoke(definition: JobDefinition, ctx: JobContext<unknown>, attempt: Attempt): void {
  let value: unknown;
  try {
    value = definition.run(ctx);
  } catch (error) {
    return attempt.chainDone({ status: 'failed', error });
  }
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || typeof (value as PromiseLike<unknown>).then !== 'function') {
    return attempt.chainDone({ status: 'completed', result: value });
  }
  Promise.resolve(value).then(
    (result) => attempt.chainDone({ status: 'completed', result }),
    (error: unknown) => attempt.chainDone({ status: 'failed', error }),
  );
}

/** A backoff that throws or returns nonsense retries at once rather than losing the job. */
function safeDelay(compute: () => number): number {
  try {
    const value = compute();
    return Number.isFinite(value) && value >= 0 ? value : 0;
  } catch {
    return 0;
  }
}

function toJson(value: unknown, warn: (error: unknown) => void): JsonValue | null {
  if (value === undefined || value === null) return null;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : (JSON.parse(text) as JsonValue);
  } catch (error) {
    warn(error);
    return null;
  }
}

/** How a job is named in logs: a workflow step as `workflow.step`, anything else by its name. */
function label(job: Job<unknown>): string {
  const { workflow, step } = job.meta;
  return typeof workflow === 'string' && typeof step === 'string' ? `${workflow}.${step}` : job.name;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
