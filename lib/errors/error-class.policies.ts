import type { BackoffPolicy } from '../decorators/job-options.js';
import type { ErrorClass } from '../store/job.types.js';

/**
 * How a class retries when the job sets nothing of its own: seed 003's
 * error classifier (retryable: exponential from 1 s to 60 s, 5 retries;
 * transient: a fixed 500 ms, 3 retries; degraded: exponential from 5 s to
 * 5 min, 2 retries; terminal: never).
 * @publicApi
 */
export const ERROR_CLASS_POLICIES: Readonly<Record<ErrorClass, { readonly maxRetries: number; readonly backoff: Readonly<BackoffPolicy> | null }>> = {
  retryable: { maxRetries: 5, backoff: { type: 'exponential', delay: 1_000, max: 60_000, factor: 2, jitter: 0.1 } },
  transient: { maxRetries: 3, backoff: { type: 'fixed', delay: 500 } },
  degraded: { maxRetries: 2, backoff: { type: 'exponential', delay: 5_000, max: 300_000, factor: 2, jitter: 0.1 } },
  terminal: { maxRetries: 0, backoff: null },
};
