import type { Clock } from '../clock/clock.js';
import type { ErrorClassifier } from '../errors/error.classifier.js';
import type { SchedulerRegistry } from '../scheduler.registry.js';
import type { JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import type { RunningJobs } from './running-jobs.js';
import type { BreakerGate } from '../breakers/breaker.board.js';
import type { StoreTimer } from '../telemetry/metrics/store-timer.js';

/**
 * What the metrics record of the hot path, told by the executor directly
 * (no event payload is built for them). `null` when metrics are off.
 * @internal
 */
export interface AttemptMetrics {
  /** An attempt started at `at` (the scheduler's clock, ms): records its queue time; the records of its job's queue × name, for its end. */
  started(job: Job<unknown>, at: number): AttemptRecords;
}

/**
 * The records of one queue × job name, resolved once (attribute sets and
 * all), which the attempt keeps from its start to its end.
 * @internal
 */
export interface AttemptRecords {
  /** The attempt completed and its completion was written; `duration` in ms. */
  completed(job: Job<unknown>, duration: number): void;
}

/**
 * What the executor tells of attempts that end after the event loop stood
 * still (`LoopStalls`): checked with the clock an acknowledgement reads anyway.
 * @internal
 */
export interface StallWatch {
  /** An attempt that ends after this (epoch ms) held the event loop. */
  readonly overdueAt: number;
  /** That attempt's handler returned at `now`. */
  returned(job: Job<unknown>, source: string | undefined, now: number): void;
}

/**
 * What became of one attempt.
 * @internal
 */
export interface ExecutionOutcome {
  job: Job<unknown>;
  /** `held`: its circuit breaker is open; handed back without spending the attempt. */
  outcome: 'completed' | 'retry' | 'dead' | 'discarded' | 'cancelled' | 'halted' | 'released' | 'lease-lost' | 'held';
  result?: unknown;
  error?: unknown;
  /** The class of a failed attempt's error (retry, dead, discarded), as the classifier found it. */
  errorClass?: string;
  /** Milliseconds the attempt took. */
  duration: number;
}

/**
 * What the settler needs: the store to acknowledge to, the retry policy and the events to emit.
 * @internal
 */
export interface SettlerDeps {
  store: JobStore;
  /** Handlers (with their middleware, resolved at init) and the backoff of their retries. */
  registry: Pick<SchedulerRegistry, 'findDefinition' | 'retrySettingsFor'>;
  /** Decides the class of a failure and whether (and when) it is retried. */
  classifier: Pick<ErrorClassifier, 'settle'>;
  clock: Clock;
  events: SchedulerEvents;
  /** Times the acknowledgements (`scheduler.store.operation.duration`). @default none */
  storeTimer?: StoreTimer | null;
  /** Called when a job is set to run again at `runAt`, a retry or a preempted job handed back (so its queue wakes on time). */
  onRetry(queue: string, runAt: Date): void;
}

/**
 * What the executor needs from the rest of the scheduler.
 * @internal
 */
export interface ExecutorDeps extends SettlerDeps {
  running: RunningJobs;
  /**
   * `retention.completed: 0`: completed jobs are deleted rather than kept.
   * Not for schedule ticks: their row holds the (schedule, tick) key that
   * keeps a tick from being planned twice.
   */
  forgetCompleted?: boolean;
  /** The circuit breakers in front of the jobs that name one. @default none */
  breakers?: BreakerGate;
  /** Queue time, duration and attempts of started and completed attempts. @default none */
  metrics?: AttemptMetrics | null;
  /** Told of a handler that returns after it held the event loop past a heartbeat. @default none */
  stalls?: StallWatch | null;
  /**
   * Why a job pinned to this node must not run here (an earlier start's
   * `@reboot` job, see `RebootJobs.superseded`): it is discarded unrun with
   * that error. Asked of pinned jobs only. @default none
   */
  superseded?: ((job: Job<unknown>) => Error | null) | null;
}
