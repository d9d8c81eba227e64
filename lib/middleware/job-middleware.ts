import type { JobContext } from '../execution/job-context.js';

/**
 * What `before` may return to stop a job from running.
 * @publicApi
 */
export interface MiddlewareHalt {
  halt: string;
}

/**
 * What `onError` may return to let a failure pass: the attempt counts as
 * completed (result `null`), and the error is logged with the reason.
 * @publicApi
 */
export interface MiddlewareIgnore {
  ignore: string;
}

/**
 * What follows a failed or halted attempt, as the scheduler decides it:
 * `retry` (it runs again), `dead` (no attempt left, or a terminal error),
 * `discard` (a `DiscardJobError`, or halted by middleware), `cancel`
 * (cancelled while it ran), `release` (handed back at shutdown or to a more
 * urgent job, or its lease was lost: the attempt's result does not count).
 * @publicApi
 */
export type AttemptNext = 'retry' | 'dead' | 'discard' | 'cancel' | 'release';

/**
 * How an attempt ended, as middleware's `onComplete` sees it.
 * @publicApi
 */
export interface AttemptOutcome {
  status: 'completed' | 'failed' | 'halted';
  result?: unknown;
  error?: unknown;
  /** A completion that was a failure let pass by `onError` (`{ ignore: reason }`): the reason; `error` holds the error. */
  ignored?: string;
  /** Milliseconds the attempt took. */
  duration: number;
  /** For a failed or halted attempt: what follows it (a halt is always `discard`). Unset for a completion. */
  next?: AttemptNext;
}

/**
 * Wraps every attempt of a job. A class, resolved from the Nest container
 * (or instantiated with its dependencies injected when it isn't a provider).
 *
 * Order (as in Oban-style middleware chains):
 * 1. `before`: every middleware in order; returning `{ halt: reason }` stops the job (state `discarded`).
 * 2. the handler.
 * 3. `after`: on success, in **reverse** order; a returned value other than `undefined` replaces the result.
 * 4. `onError`: on failure, in order; returning an `Error` replaces the error (e.g. a `DiscardJobError`);
 *    returning `{ ignore: reason }` lets it pass: the attempt counts as completed, the error is logged, and
 *    the later middleware's `onError` is not called.
 * 5. `onComplete`: always, in order.
 * @publicApi
 */
export interface JobMiddleware {
  before?(ctx: JobContext<unknown>): void | MiddlewareHalt | Promise<void | MiddlewareHalt>;
  after?(ctx: JobContext<unknown>, result: unknown): unknown;
  onError?(ctx: JobContext<unknown>, error: unknown): void | Error | MiddlewareIgnore | Promise<void | Error | MiddlewareIgnore>;
  onComplete?(ctx: JobContext<unknown>, outcome: AttemptOutcome): void | Promise<void>;
}

/**
 * Returns the value that lets a failure pass from a middleware's `onError`.
 * @publicApi
 */
export function ignoreError(reason: string): MiddlewareIgnore {
  return { ignore: reason };
}

/**
 * Returns the value that halts a job from a middleware's `before`.
 * @publicApi
 */
export function haltJob(reason: string): MiddlewareHalt {
  return { halt: reason };
}
