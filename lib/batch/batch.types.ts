import type { JsonValue } from '../common/json.js';
import type { WorkerOptions } from '../decorators/job-options.js';
import type { JobContext } from '../execution/job-context.js';

/**
 * What a batch does when an item fails: `'continue'` counts it and goes on;
 * `'stop'` stops the batch, whose attempt then fails; `'retry'` calls
 * `processItem` again, up to {@link MAX_ITEM_RETRIES} more times, then
 * counts it and goes on.
 * @publicApi
 */
export type BatchErrorStrategy = 'continue' | 'stop' | 'retry';

/**
 * Calls of `processItem` after an item's first failure, with `onError:
 * 'retry'` or a `RetryItemError` (4 calls at most).
 * @publicApi
 */
export const MAX_ITEM_RETRIES = 3;

/**
 * `@BatchWorker` options: a worker's options plus the batch's own.
 * @publicApi
 */
export interface BatchWorkerOptions extends WorkerOptions {
  /** Items asked of `fetchItems` per page (`ctx.batchSize`), 1 to 10,000. @default 100 */
  batchSize?: number;
  /** Items of a page processed at once, 1 to 1,000. @default 1 */
  concurrency?: number;
  /** @default 'continue' */
  onError?: BatchErrorStrategy;
  /** Items processed (or failed) at most per run, counted across attempts; no limit when absent. @default none */
  maxItems?: number;
}

/**
 * What `fetchItems` returns: a page of items and the cursor past them, or
 * the last page (`done: true`, its items may be empty).
 * @publicApi
 */
export type BatchPage<TItem, TCursor extends JsonValue = JsonValue> =
  { items: readonly TItem[]; cursor: TCursor; done?: false } | { items: readonly TItem[]; done: true; cursor?: TCursor };

/**
 * What `fetchItems` and `processItem` receive: the job's context with the
 * batch's settings. (A batch reports its own progress: `ctx.progress` is
 * not for its items.)
 * @publicApi
 */
export interface BatchContext<TArgs = JsonValue> extends Omit<JobContext<TArgs>, 'progress'> {
  readonly batchSize: number;
  readonly concurrency: number;
}

/**
 * A `@BatchWorker` class: pages of items from `fetchItems`, each item
 * through `processItem`.
 * @publicApi
 */
export interface BatchJob<TItem = unknown, TCursor extends JsonValue = JsonValue, TArgs = JsonValue> {
  /** The page after `cursor` (`undefined`: the first page). */
  fetchItems(cursor: TCursor | undefined, ctx: BatchContext<TArgs>): BatchPage<TItem, TCursor> | Promise<BatchPage<TItem, TCursor>>;
  /** One item: return (any value) to count it processed; throw to fail it (`RetryItemError` asks for a retry). */
  processItem(item: TItem, ctx: BatchContext<TArgs>): unknown;
}

/**
 * One failed item in a {@link BatchResult}.
 * @publicApi
 */
export interface BatchItemError {
  /** The item's position in the run, from 0 (across attempts). */
  index: number;
  name: string;
  message: string;
  /** Calls of `processItem` for it. */
  calls: number;
}

/**
 * How a batch ended: the job's result (and `batch:stop`'s).
 * - `completed`: every item processed; `partial`: some failed and were
 *   passed over; `failed`: stopped by a failure (`onError: 'stop'`).
 * @publicApi
 */
export interface BatchResult<TCursor extends JsonValue = JsonValue> {
  status: 'completed' | 'partial' | 'failed';
  /** Items that succeeded, across attempts. */
  processed: number;
  /** Items that failed, across attempts. */
  failed: number;
  /** The last 10 item failures of this attempt. */
  errors: BatchItemError[];
  /** The cursor past the last page done, or `null` before any. */
  cursor: TCursor | null;
  /** This attempt's duration in ms. */
  durationMs: number;
}
