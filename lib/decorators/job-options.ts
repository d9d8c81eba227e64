import type { Type } from '@nestjs/common';
import type { Duration } from '../common/duration.js';
import type { JsonObject } from '../common/json.js';
import type { Preemptible, UniqueState } from '../store/job.types.js';

export type { Preemptible } from '../store/job.types.js';
import type { JobMiddleware } from '../middleware/job-middleware.js';
import type { RateLimit } from '../rate-limit/rate-limit.options.js';
import type { ScheduleBuilderInput } from '../schedule/builder/schedule-builder.types.js';

/**
 * Computes the delay in milliseconds before retry number `attempt` (1-based:
 * the attempt that just failed).
 * @publicApi
 */
export type BackoffFunction = (attempt: number, error: unknown) => number;

/**
 * A retry delay described as data, so that it can be stored (a runtime
 * schedule's `backoff`) as well as written in a decorator.
 * - `'fixed'`: every retry waits `delay`.
 * - `'exponential'`: retry `n` waits `delay · factor^(n-1)`, capped at `max`.
 * @publicApi
 */
export interface BackoffPolicy {
  type: 'fixed' | 'exponential';
  /** The wait before the first retry (before every retry with `'fixed'`). */
  delay: Duration;
  /** Upper bound of any wait; `'exponential'` only, at least `delay`. @default '1h' */
  max?: Duration;
  /** Growth per retry; `'exponential'` only, at least 1. @default 2 */
  factor?: number;
  /** Random spread of each wait: `true` is ±20 %, a number is the fraction (0 to 1). @default false */
  jitter?: boolean | number;
}

/**
 * A fixed delay, a {@link BackoffPolicy}, or a function of the attempt and the error.
 * @publicApi
 */
export type BackoffOption = Duration | BackoffPolicy | BackoffFunction;

/**
 * A backoff that can be stored as JSON: what a runtime schedule accepts (no function).
 * @publicApi
 */
export type StorableBackoff = Duration | BackoffPolicy;

/**
 * What to do with ticks missed while nothing ran (late by more than
 * `misfireThreshold`).
 * - `'runOnce'` (default): one run for the missed ticks, with `ctx.misfired`.
 * - `'skip'`: no run for missed ticks; the next tick runs as usual.
 * - `{ catchUp: '1h' }`: one run per missed tick of the last hour (marked misfired).
 * @publicApi
 */
export type MisfirePolicy = 'runOnce' | 'skip' | { catchUp: Duration };

/**
 * What makes two jobs duplicates: their name, queue, whole arguments, or the
 * named top-level keys of their arguments (`{ args: ['userId'] }`).
 * @publicApi
 */
export type UniqueBy = 'name' | 'queue' | 'args' | { args: string[] };

/**
 * Unique jobs in full: no second job with the same key while one exists in
 * `states`, inserted less than `period` ago. Plain data, so a runtime
 * schedule stores it as it is.
 * @publicApi
 */
export interface UniqueOptions {
  /**
   * A fixed key; with `by`, a prefix of the key `by` derives. @default none
   * (the key comes from `by`)
   */
  key?: string;
  /** What the key is made of (one or a list). @default ['name', 'args'] (only `key` when `key` is given alone) */
  by?: UniqueBy | UniqueBy[];
  /**
   * The states of an existing job that make a new one a duplicate
   * (`scheduled`: available, not yet due). With `'completed'` the key
   * outlives the job's completion. @default ['scheduled', 'available', 'running']
   */
  states?: UniqueState[];
  /** How long after its insert an existing job makes new ones duplicates. @default no limit */
  period?: Duration;
}

/**
 * `unique`: `true` (by name and arguments, while scheduled, available or
 * running), a key string (the same states), or {@link UniqueOptions};
 * `false` for none.
 * @publicApi
 */
export type UniqueOption = boolean | string | UniqueOptions;

/**
 * What a new tick does while an earlier run of the same schedule is queued or running.
 * - `'skip'`: no new run (default when `unique: true`).
 * - `'bufferOne'`: at most one run waits behind the running one; runs never overlap.
 * - `'allow'`: every tick runs (default otherwise).
 * @publicApi
 */
export type OverlapPolicy = 'skip' | 'bufferOne' | 'allow';

/**
 * Options of a job (shared by `@Scheduled`, `@Worker`, and runtime schedules).
 * @publicApi
 */
export interface JobOptions {
  /** Job name, unique in the app. @default `ClassName.method` (or the class name for a worker). */
  name?: string;
  /** Queue the job runs on; must be configured in `queues`. @default 'default' */
  queue?: string;
  /** 0 (runs first) to 9. @default 0 */
  priority?: number;
  /** Abort an attempt after this long (`ctx.signal`, reason `timeout`); `false`: no timeout. @default the module's `defaults.timeout` ('5m') */
  timeout?: Duration | false;
  /**
   * Retries after the first attempt fails; set here, it wins over the
   * retries of the error's class (see docs/errors.md). @default the module's `defaults.maxRetries` (3)
   */
  maxRetries?: number;
  /**
   * Delay before a retry; set here, it wins over the backoff of the error's
   * class. @default the module's `defaults.backoff`: exponential, 1 s · 2^(attempt-1), ±20 % jitter, capped at 1 h
   */
  backoff?: BackoffOption;
  /**
   * Keeps jobs of this handler unique (see {@link UniqueOption}): `enqueue`
   * of a duplicate inserts nothing and returns the existing job with
   * `duplicate: true` (a call's own `unique` option wins). With `true`, a
   * schedule also skips a tick while its run is queued or running (sets
   * `overlap: 'skip'`); with a key or an object, each tick's job is held to
   * it like an enqueued one. @default false
   */
  unique?: UniqueOption;
  /** Schedules only (cron, every, at). @default 'skip' with `unique: true`, else 'allow' */
  overlap?: OverlapPolicy;
  /** Schedules only (cron, every, at). @default 'runOnce' */
  misfire?: MisfirePolicy;
  /** Free-form labels, kept on each job. @default [] */
  tags?: string[];
  /** Free-form JSON metadata, kept on each job. @default {} */
  meta?: JsonObject;
  /** Middleware classes for this job only, run after the global ones. @default [] */
  middleware?: Type<JobMiddleware>[];
  /**
   * The circuit breaker guarding this job: one named in the module's
   * `circuitBreakers` or registered at runtime (`scheduler.circuitBreakers.register`);
   * any other name fails bootstrap. While it is open, the job's queued runs
   * wait without spending an attempt and its schedule's ticks are skipped. @default none
   */
  circuitBreaker?: string;
  /**
   * At most `limit` jobs of this name start per `per`, on all queues (and, on
   * PostgreSQL, all nodes): the bucket of `rateLimits.jobs[name]`, which must
   * then not be set as well. Decorators only. @default none
   */
  rateLimit?: RateLimit;
  /**
   * What this job does when a more urgent job needs its slot on a queue with
   * `preemption`: `'suspend'` waits at its next `ctx.checkpoint()` until a
   * slot frees; `'requeue'` is aborted (reason `preempted`) and queued again
   * without spending an attempt; `false` is never preempted. `enqueue` may
   * set it per job. @default 'suspend'
   */
  preemptible?: Preemptible;
}

/**
 * When a job runs on its own. At most one of `cron`, `every`, `at` and `schedule`.
 * @publicApi
 */
export interface ScheduleOptions {
  /**
   * Cron expression (5 fields, or 6 with seconds first), names such as
   * `MON-FRI`, macros `@yearly @monthly @weekly @daily @hourly @reboot`, or a
   * list of expressions.
   */
  cron?: string | string[];
  /** IANA time zone of `cron`. @default 'Etc/UTC' */
  zone?: string;
  /** Interval; ticks are aligned to the Unix epoch (every '5m' → :00, :05, …). */
  every?: Duration;
  /** One time (a Date or an ISO-8601 string with an offset). */
  at?: Date | string;
  /**
   * A fluent builder (`every(5).minutes().between('09:00', '17:00')`) or its
   * `toSpec()` JSON. Its `.withoutOverlapping()` and `.misfire()` set
   * `overlap` and `misfire` (a different value given beside it is refused).
   * A rule that counts from its start (a fixed interval, a day step,
   * `maxRuns`) needs `.startAt(date)` in a decorator. @default none
   */
  schedule?: ScheduleBuilderInput;
}

/**
 * Options of `@Scheduled`.
 * @publicApi
 */
export interface ScheduledOptions extends JobOptions, ScheduleOptions {}

/**
 * Options of `@Worker`.
 * @publicApi
 */
export interface WorkerOptions extends JobOptions, ScheduleOptions {}
