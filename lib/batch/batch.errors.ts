import type { JsonValue } from '../common/json.js';
import { SchedulerError } from '../scheduler.errors.js';
import type { BatchResult } from './batch.types.js';

/**
 * Thrown by `processItem` to have the item tried again (up to 3 more calls,
 * whatever the batch's `onError`), then treated as failed.
 * @publicApi
 */
export class RetryItemError extends SchedulerError {
  constructor(reason = 'retry the item', options?: { cause?: unknown }) {
    super(reason, options);
  }
}

/**
 * A batch stopped by a failed item (`onError: 'stop'`): its attempt fails
 * with this error (retried by the job's policy, from its last checkpoint).
 * @publicApi
 */
export class BatchFailedError extends SchedulerError {
  constructor(
    /** The batch's summary, as `batch:stop` had it. */
    readonly result: BatchResult<JsonValue>,
  ) {
    const last = result.errors.at(-1);
    super(`batch stopped at item ${last?.index ?? '?'} (${result.processed} processed, ${result.failed} failed): ${last?.message ?? 'an item failed'}`);
  }
}

/**
 * `fetchItems` returned something that is not a page: a bug a retry would
 * meet again, so the job's attempt fails as `terminal` (no retry).
 * @publicApi
 */
export class InvalidBatchPageError extends SchedulerError {
  readonly errorClass = 'terminal';
}
