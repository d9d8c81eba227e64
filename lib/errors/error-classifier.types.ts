import type { BackoffFunction, BackoffPolicy } from '../decorators/job-options.js';
import type { ErrorClass } from '../store/job.types.js';

/**
 * The `errors.classify` module option: the class of an error, or `undefined`
 * to leave it to the built-in rules. Asked after the error's own verdict.
 * @publicApi
 */
export type ErrorClassifyFunction = (error: unknown) => ErrorClass | undefined | null | void;

/**
 * The `errors` module option.
 * @publicApi
 */
export interface ErrorsOptions {
  /** Classifies errors the error itself does not (see {@link ErrorClassifyFunction}). @default none: only the built-in rules */
  classify?: ErrorClassifyFunction;
}

/**
 * What decided an error's class: its own verdict (`ClassifiedError` or an
 * `errorClass` property), the `errors.classify` option, a built-in rule, or
 * nothing (`unrecognised`: `retryable` with the job's or the module's
 * retry settings).
 * @publicApi
 */
export type ClassificationSource = 'error' | 'classify' | 'rule' | 'unrecognised';

/**
 * What `scheduler.errors.classify(error)` says of an error.
 * @publicApi
 */
export interface ErrorClassification {
  errorClass: ErrorClass;
  /** Whether the class retries at all (`false` only for `terminal`). */
  retryable: boolean;
  /** Retries after the first attempt that this error allows. */
  maxRetries: number;
  /** The delay before each retry (durations in ms), or `null` when the class never retries. */
  backoff: BackoffPolicy | BackoffFunction | null;
  /** Milliseconds to wait before the next attempt, given by the error (`retryAfter`, a Retry-After header); wins over `backoff`. */
  retryAfter: number | null;
  /** The error's own `tripsCircuit`, or `null` when it says nothing. */
  tripsCircuit: boolean | null;
  source: ClassificationSource;
}

/**
 * What `scheduler.errors.nextAction(error, attempt)` says: retry after
 * `delayMs`, go to the dead letters, or (a `DiscardJobError` only) discard.
 * @publicApi
 */
export type NextAction = { action: 'retry'; delayMs: number } | { action: 'dead' } | { action: 'discard' };

/**
 * A job's own retry settings, when it has any (decorator, runtime schedule
 * or enqueue options): they win over the class's.
 * @internal
 */
export interface JobRetrySettings {
  /** The job's explicit `maxRetries`. */
  maxRetries?: number;
  /** The job's explicit backoff (a `backoff` option or a worker's `backoff()` method). */
  backoff?: BackoffFunction;
  /** What an unrecognised error keeps when the job sets no `maxRetries`: the module's default unless given. */
  fallbackMaxRetries?: number;
}
