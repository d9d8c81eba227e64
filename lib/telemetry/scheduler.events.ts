import { Logger } from '@nestjs/common';
import type { DeadLetter } from '../dead-letters/dead-letter.entry.js';
import type { Job, JobProgress } from '../store/job.types.js';
import type { JsonValue } from '../common/json.js';
import type { BatchResult } from '../batch/batch.types.js';
import type { CircuitBreakerState, CircuitState } from '../breakers/circuit-breaker.types.js';

/**
 * How a job event ended.
 * @publicApi
 */
export type JobOutcome = 'started' | 'completed' | 'retry' | 'dead' | 'discarded' | 'cancelled' | 'halted' | 'released' | 'skipped' | 'rescued' | 'stale';

/**
 * Common shape of job events: the job as stored, how long it took (ms) and the outcome.
 * @publicApi
 */
export interface JobEvent {
  job: Job<unknown>;
  /** Milliseconds since the attempt started (0 for `job:start`). */
  duration: number;
  outcome: JobOutcome;
}

/**
 * `job:progress`: a running attempt reported progress (`ctx.progress`);
 * emitted at every report, though the store keeps at most one a second.
 * @publicApi
 */
export interface JobProgressEvent {
  /** The running job, `progress` set to the new value. */
  job: Job<unknown>;
  progress: JobProgress;
  /** Milliseconds since the attempt started. */
  duration: number;
}

/**
 * `job:preempt`: a running job gave up its slot to a more urgent one (at
 * its checkpoint; with `preemptible: 'requeue'`, when it was aborted).
 * @publicApi
 */
export interface JobPreemptEvent {
  preempted: Job<unknown>;
  preemptedPriority: number;
  /** The claimed job that asked for the slot. */
  incoming: Job<unknown>;
  incomingPriority: number;
  queue: string;
}

/**
 * `job:resume`: a suspended job took a free slot again.
 * @publicApi
 */
export interface JobResumeEvent {
  job: Job<unknown>;
  queue: string;
  reason: 'preemption_ended';
  /** Milliseconds it was suspended. */
  suspendedFor: number;
}

/**
 * `batch:start`: an attempt of a batch job began (from its last checkpoint when `resumedFrom` is not null).
 * @publicApi
 */
export interface BatchStartEvent {
  job: Job<unknown>;
  batchSize: number;
  concurrency: number;
  /** The checkpoint's cursor an earlier attempt left, or `null` for a fresh start (or one resumed before its first page's cursor). */
  resumedFrom: JsonValue | null;
}

/**
 * `batch:progress`: a page is done and checkpointed.
 * @publicApi
 */
export interface BatchProgressEvent {
  job: Job<unknown>;
  /** Items that succeeded so far, across attempts. */
  processed: number;
  failed: number;
  cursor: JsonValue | null;
}

/**
 * `batch:stop`: an attempt of a batch job ended with a summary (also its result, or its `BatchFailedError`'s).
 * @publicApi
 */
export interface BatchStopEvent {
  job: Job<unknown>;
  result: BatchResult;
}

/**
 * `job:stop`: the attempt completed.
 * @publicApi
 */
export interface JobStopEvent extends JobEvent {
  result: unknown;
}

/**
 * `job:exception`: the attempt failed; it will be retried (`nextRunAt`) or is dead.
 * @publicApi
 */
export interface JobExceptionEvent extends JobEvent {
  error: unknown;
  /** `error`, `timeout` or `lease-lost`. */
  kind: string;
  nextRunAt: Date | null;
}

/**
 * `job:discard`: stopped for good (DiscardJobError, halted, or no handler).
 * @publicApi
 */
export interface JobDiscardEvent extends JobEvent {
  reason: string;
}

/**
 * `job:cancel`: cancelled through the API (a running one had its signal aborted).
 * @publicApi
 */
export interface JobCancelEvent extends JobEvent {
  reason: string;
}

/**
 * `job:skip`: a tick or enqueue that did not create a run.
 * @publicApi
 */
export interface JobSkipEvent {
  name: string;
  schedule: string | null;
  /**
   * `overlap` (an earlier run is queued or running), `unique` (key taken), `paused`, `halted`,
   * `circuit_open` (a tick while the job's circuit breaker is open),
   * `rate_limited` (a queued job that waits for a rate limit's token; once per wait).
   */
  reason: 'overlap' | 'unique' | 'paused' | 'halted' | 'circuit_open' | 'rate_limited';
  /** The job that blocked it, the halted job, or the job held back by a rate limit. */
  job: Job<unknown> | null;
  tick: Date | null;
  duration: number;
  outcome: 'skipped';
}

/**
 * Where an enqueued job came from: `api` (`enqueue`, `enqueueAt`,
 * `enqueueMany`, `runNow`), `cron`, `interval` (`every`) and `once` (`at`,
 * `@reboot`) for a schedule's ticks, `retry` (a dead letter put back in its
 * queue), `workflow` (a workflow's start, step and rollback jobs).
 * @publicApi
 */
export type JobSource = 'api' | 'cron' | 'interval' | 'once' | 'retry' | 'workflow';

/**
 * `job:enqueue`: a job entered the store (once per inserted job; a duplicate
 * emits `job:skip` instead). Inside a caller's transaction (`manager`) it is
 * emitted when the insert returns, before the transaction commits.
 * @publicApi
 */
export interface JobEnqueueEvent {
  /** The job as stored (`running` already when this node claimed it at insert). */
  job: Job<unknown>;
  source: JobSource;
}

/**
 * `job:stale`: a late acknowledgement from an attempt that no longer owns its job.
 * @publicApi
 */
export interface JobStaleEvent {
  jobId: string;
  attempt: number;
  operation: string;
  duration: number;
  outcome: 'stale';
}

/**
 * Queue control events.
 * @publicApi
 */
export interface QueueEvent {
  queue: string;
  /** Milliseconds the change took. */
  duration: number;
  outcome: 'ok';
  /** `queue:scale`: the old and new concurrency. */
  from?: number;
  to?: number;
}

/**
 * Leadership events.
 * @publicApi
 */
export interface PeerEvent {
  node: string;
}

/**
 * Workflow run events (`workflow:*`).
 * @publicApi
 */
export interface WorkflowEvent {
  runId: string;
  workflow: string;
  /** Milliseconds since the run started (0 for `workflow:start`). */
  duration: number;
  outcome: 'started' | 'completed' | 'failed' | 'paused' | 'resumed' | 'cancelled';
  error?: string;
}

/**
 * Step and rollback events (`step:*`, `rollback:*`).
 * @publicApi
 */
export interface StepEvent {
  runId: string;
  workflow: string;
  step: string;
  attempt: number;
  /** Milliseconds the attempt (or rollback) took (0 for starts and skips). */
  duration: number;
  outcome: 'started' | 'completed' | 'failed' | 'retry' | 'skipped' | 'rolled_back';
  error?: unknown;
  /** For `step:skip`: `condition`, `error` or `dependency`. */
  reason?: string;
}

/**
 * `workflow:exception`: an attempt of a workflow's step failed; it will be
 * retried (`outcome: 'retry'`), or the step's `onError` policy applies
 * (`outcome: 'failed'`). One event for both, as `job:exception` is for jobs.
 * @publicApi
 */
export interface WorkflowExceptionEvent {
  runId: string;
  workflow: string;
  step: string;
  /** The id of the step's job. */
  jobId: string;
  attempt: number;
  maxAttempts: number;
  /** Milliseconds the attempt took. */
  duration: number;
  outcome: 'retry' | 'failed';
  error: unknown;
  /** `error` or `timeout`. */
  kind: 'error' | 'timeout';
}

/**
 * `deadLetter:insert`: a job died on this node (its last attempt failed, or
 * the leader's rescue found it out of attempts).
 * @publicApi
 */
export interface DeadLetterInsertEvent {
  entry: DeadLetter<unknown>;
}

/**
 * `deadLetter:retry`: a dead letter was put back in its queue (`deadLetters.retry` or `retryAll`, once per job).
 * @publicApi
 */
export interface DeadLetterRetryEvent {
  id: string;
  name: string;
  queue: string;
}

/**
 * `deadLetter:prune`: dead letters were deleted, by `deadLetters.prune` (`api`) or the pruner (`pruner`).
 * @publicApi
 */
export interface DeadLetterPruneEvent {
  count: number;
  by: 'api' | 'pruner';
}

/**
 * `circuit:open`, `circuit:halfOpen`, `circuit:close`: a breaker changed
 * state. Emitted by the node whose call changed it (on PostgreSQL, other
 * nodes see the change within a poll, without an event).
 * @publicApi
 */
export interface CircuitEvent {
  /** The breaker's name. */
  name: string;
  from: CircuitState;
  to: CircuitState;
  /** The breaker after the change. */
  breaker: CircuitBreakerState;
  /** For `circuit:open`: the error of the failure that opened it (unknown after a `reset`). */
  error?: unknown;
}

/**
 * `circuit:reject`: a job its open breaker held back (once per hold). It
 * spent no attempt and is due again at `until`.
 * @publicApi
 */
export interface CircuitRejectEvent {
  /** The breaker's name. */
  name: string;
  /** The job as it was claimed. */
  job: Job<unknown>;
  /** Its new run time: when the breaker lets probes through. */
  until: Date;
}

/**
 * An action of the dashboard (`nestjs-scheduler/dashboard`).
 * @publicApi
 */
export type DashboardActionName =
  | 'jobs.retry'
  | 'jobs.cancel'
  | 'jobs.runNow'
  | 'jobs.delete'
  | 'queues.pause'
  | 'queues.resume'
  | 'queues.scale'
  | 'schedules.pause'
  | 'schedules.resume'
  | 'schedules.runNow'
  | 'schedules.update'
  | 'deadLetters.retry'
  | 'deadLetters.retryAll'
  | 'jobs.bulkRetry'
  | 'jobs.bulkCancel'
  | 'jobs.bulkDelete'
  | 'workflows.cancel'
  | 'workflows.retry'
  | 'workflows.pause'
  | 'workflows.resume';

/**
 * `dashboard:action`: the audit trail of the dashboard: every action asked
 * for, once, whether it was refused (`denied`: read-only, no access, CSRF),
 * failed (`error`) or done (`ok`).
 * @publicApi
 */
export interface DashboardActionEvent {
  action: DashboardActionName;
  /** What it acted on: the job id, queue name, schedule name, dead letter id or workflow run id. */
  target: string;
  /** Who, as the dashboard's `actor(req)` option names them; `null` without it. */
  actor: string | null;
  outcome: 'ok' | 'error' | 'denied';
  /** Why it was denied (`csrf`, `read_only`, `not_allowed`) or the error's message. */
  reason?: string;
  /** A bulk action done: how many jobs it changed. */
  count?: number;
}

/**
 * Every event `SchedulerService.on` accepts, and its payload.
 * @publicApi
 */
export interface SchedulerEventMap {
  'job:enqueue': JobEnqueueEvent;
  'job:start': JobEvent;
  'job:stop': JobStopEvent;
  'job:exception': JobExceptionEvent;
  'job:discard': JobDiscardEvent;
  'job:cancel': JobCancelEvent;
  'job:skip': JobSkipEvent;
  'job:stale': JobStaleEvent;
  'job:rescue': JobEvent;
  'job:progress': JobProgressEvent;
  'job:preempt': JobPreemptEvent;
  'job:resume': JobResumeEvent;
  'batch:start': BatchStartEvent;
  'batch:progress': BatchProgressEvent;
  'batch:stop': BatchStopEvent;
  'queue:pause': QueueEvent;
  'queue:resume': QueueEvent;
  'queue:scale': QueueEvent;
  'peer:election': PeerEvent;
  'peer:resignation': PeerEvent;
  'workflow:start': WorkflowEvent;
  'workflow:stop': WorkflowEvent;
  'workflow:fail': WorkflowEvent;
  'workflow:pause': WorkflowEvent;
  'workflow:resume': WorkflowEvent;
  'workflow:cancel': WorkflowEvent;
  'workflow:exception': WorkflowExceptionEvent;
  'step:start': StepEvent;
  'step:stop': StepEvent;
  'step:exception': StepEvent;
  'step:skip': StepEvent;
  'step:retry': StepEvent;
  'rollback:start': StepEvent;
  'rollback:stop': StepEvent;
  'rollback:exception': StepEvent;
  'deadLetter:insert': DeadLetterInsertEvent;
  'deadLetter:retry': DeadLetterRetryEvent;
  'deadLetter:prune': DeadLetterPruneEvent;
  'circuit:open': CircuitEvent;
  'circuit:halfOpen': CircuitEvent;
  'circuit:close': CircuitEvent;
  'circuit:reject': CircuitRejectEvent;
  'dashboard:action': DashboardActionEvent;
}

/**
 * A name of {@link SchedulerEventMap}.
 * @publicApi
 */
export type SchedulerEventName = keyof SchedulerEventMap;

type Listener<E extends SchedulerEventName> = (payload: SchedulerEventMap[E]) => void;

/**
 * The scheduler's event bus. Listeners run synchronously; one that throws is
 * logged and never breaks the job or the other listeners.
 * @internal
 */
export class SchedulerEvents {
  private readonly listeners = new Map<SchedulerEventName, Set<Listener<never>>>();
  private readonly logger = new Logger('Scheduler');

  /** Adds a listener; returns a function that removes it. */
  on<E extends SchedulerEventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** True when someone listens to `event` (hot paths skip building the payload otherwise). */
  has(event: SchedulerEventName): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends SchedulerEventName>(event: E, payload: SchedulerEventMap[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    // oxlint-disable-next-line unicorn/no-useless-spread -- a snapshot: a listener may unsubscribe or subscribe another while it runs
    for (const listener of [...set]) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        this.logger.error(`listener of "${event}" threw: ${(error as Error)?.stack ?? String(error)}`);
      }
    }
  }
}
