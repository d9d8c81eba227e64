import type { JsonObject, JsonValue } from '../common/json.js';
import type { JobContext } from '../execution/job-context.js';
import { attemptOf } from '../execution/attempt.context.js';
import type { Attempt } from '../execution/job.attempt.js';
import { JobAbortedError, PayloadTooLargeError, SchedulerError } from '../scheduler.errors.js';
import { BatchFailedError, InvalidBatchPageError, RetryItemError } from './batch.errors.js';
import type { BatchSettings } from './batch.options.js';
import { MAX_ITEM_RETRIES, type BatchContext, type BatchItemError, type BatchJob, type BatchPage, type BatchResult } from './batch.types.js';
import { safeErrorText, toAttemptError } from '../execution/job-errors.js';
import { MAX_PROGRESS_BYTES } from '../store/job.types.js';
import { storableJson } from '../store/json-value.validation.js';

const NO_TIME = new Date(0);
/** A cursor's share of the checkpoint (`MAX_PROGRESS_BYTES` with the counts). */
const MAX_CURSOR_BYTES = MAX_PROGRESS_BYTES - 100;

/** Item failures a result keeps (the last ones). */
const KEPT_ERRORS = 10;

/** Where a run stands: what its checkpoint keeps (the job's progress). */
interface Checkpoint {
  processed: number;
  failed: number;
  cursor: JsonValue | null;
}

/**
 * Runs one attempt of a batch job: pages from `fetchItems`, from the last
 * checkpoint of an earlier attempt if there is one; each page's items
 * through `processItem`, `concurrency` at a time; then the checkpoint (the
 * cursor past the page and the counts) written as the job's progress before
 * the next page. A checkpoint the store refuses (the attempt no longer holds
 * the job: it was rescued and runs elsewhere) stops the run, so two attempts
 * never go on past the same checkpoint. An abort (`ctx.signal`: shutdown,
 * timeout, cancel) stops it between items; the page it stopped in runs again
 * from the start at the next attempt.
 * @internal
 */
export async function runBatch(job: BatchJob<unknown, JsonValue, unknown>, settings: BatchSettings, ctx: JobContext<unknown>): Promise<BatchResult> {
  const attempt = attemptOf(ctx);
  const { clock, events } = attempt.ports;
  const started = clock.now();
  const resumed = checkpointOf(attempt);
  const state: Checkpoint = resumed ?? { processed: 0, failed: 0, cursor: null };
  const errors: BatchItemError[] = [];
  const bctx = batchContext(ctx, settings);
  if (events.has('batch:start')) {
    events.emit('batch:start', {
      job: attempt.job,
      batchSize: settings.batchSize,
      concurrency: settings.concurrency,
      resumedFrom: resumed ? resumed.cursor : null,
    });
  }
  let stopped = false;
  let done = false;
  while (!done && !stopped) {
    const room = settings.maxItems === null ? settings.batchSize : Math.min(settings.batchSize, settings.maxItems - state.processed - state.failed);
    if (room <= 0) break;
    throwIfAborted(ctx);
    const page = checkPage(await job.fetchItems(state.cursor === null ? undefined : state.cursor, bctx));
    const items = page.items.slice(0, room);
    const before = state.processed + state.failed;
    stopped = await processPage(job, items, bctx, settings, before, state, errors);
    throwIfAborted(ctx);
    if (stopped) break;
    done = page.done === true || page.items.length > room;
    if (page.cursor !== undefined) state.cursor = page.cursor;
    if (!(await attempt.ports.saveProgress(attempt, { ...state } as JsonObject))) throw new JobAbortedError('lease-lost');
    if (events.has('batch:progress'))
      events.emit('batch:progress', { job: attempt.job, processed: state.processed, failed: state.failed, cursor: state.cursor });
  }
  const result: BatchResult = {
    status: stopped ? 'failed' : state.failed > 0 ? 'partial' : 'completed',
    processed: state.processed,
    failed: state.failed,
    errors: errors.slice(-KEPT_ERRORS),
    cursor: state.cursor,
    durationMs: clock.now() - started,
  };
  if (events.has('batch:stop')) events.emit('batch:stop', { job: attempt.job, result });
  if (stopped) throw new BatchFailedError(result);
  return result;
}

/**
 * One page, `concurrency` items at a time, in order of start. Resolves to
 * whether the batch must stop (an item failed under `onError: 'stop'`).
 */
async function processPage(
  job: BatchJob<unknown, JsonValue, unknown>,
  items: readonly unknown[],
  ctx: BatchContext<unknown>,
  settings: BatchSettings,
  offset: number,
  state: Checkpoint,
  errors: BatchItemError[],
): Promise<boolean> {
  let next = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop && !ctx.signal.aborted && next < items.length) {
      // Between items: where a preempted batch gives up its slot.
      await ctx.checkpoint();
      if (stop || ctx.signal.aborted || next >= items.length) break;
      const index = next++;
      const failure = await processItem(job, items[index], ctx, settings);
      if (failure === null) {
        state.processed++;
        continue;
      }
      state.failed++;
      // Read as an attempt's error is (a getter that throws, text cut on code points): the result that carries them must be storable.
      const { name, message } = toAttemptError(failure.error, 0, NO_TIME, 'item');
      errors.push({ index: offset + index, name, message, calls: failure.calls });
      if (errors.length > KEPT_ERRORS) errors.shift();
      if (settings.onError === 'stop') stop = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(settings.concurrency, items.length) }, worker));
  return stop;
}

/** One item, retried as its strategy (or a `RetryItemError`) asks: null when it succeeded. */
async function processItem(
  job: BatchJob<unknown, JsonValue, unknown>,
  item: unknown,
  ctx: BatchContext<unknown>,
  settings: BatchSettings,
): Promise<{ error: Error; calls: number } | null> {
  for (let calls = 1; ; calls++) {
    try {
      await job.processItem(item, ctx);
      return null;
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(safeErrorText(thrown));
      const retries = settings.onError === 'retry' || error instanceof RetryItemError;
      if (!retries || calls > MAX_ITEM_RETRIES || ctx.signal.aborted) return { error, calls };
    }
  }
}

/** The checkpoint an earlier attempt left on the job, if any. */
function checkpointOf(attempt: Attempt): Checkpoint | null {
  const progress = attempt.job.progress;
  if (progress === null || typeof progress !== 'object') return null;
  const { processed, failed, cursor } = progress as Partial<Checkpoint>;
  if (!Number.isInteger(processed) || !Number.isInteger(failed)) return null;
  return { processed: processed!, failed: failed!, cursor: cursor ?? null };
}

function checkPage(page: unknown): BatchPage<unknown> {
  if (typeof page !== 'object' || page === null || !Array.isArray((page as { items?: unknown }).items)) {
    throw new InvalidBatchPageError(`fetchItems must return { items, cursor } or { items, done: true }, got ${describe(page)}`);
  }
  const { done, cursor } = page as { done?: unknown; cursor?: unknown };
  if (done !== undefined && typeof done !== 'boolean')
    throw new InvalidBatchPageError(`fetchItems returned done: ${describe(done)}; it must be true, false or absent`);
  if (done !== true && cursor === undefined)
    throw new InvalidBatchPageError('fetchItems returned a page with neither a cursor nor done: true; the batch would fetch the same page for ever');
  // Checked before the page's items run: a checkpoint refused after them would run them again at the next attempt.
  if (cursor !== undefined) {
    try {
      storableJson('cursor', cursor, MAX_CURSOR_BYTES);
    } catch (error) {
      const why =
        error instanceof PayloadTooLargeError
          ? `it is ${error.bytes} bytes of JSON, and a checkpoint keeps ${MAX_PROGRESS_BYTES} bytes with its counts`
          : (error as Error).message;
      throw new InvalidBatchPageError(`fetchItems returned a cursor the checkpoint cannot keep: ${why}`);
    }
  }
  return page as BatchPage<unknown>;
}

/** The job's context with the batch's settings; `progress` belongs to the batch. */
function batchContext(ctx: JobContext<unknown>, settings: BatchSettings): BatchContext<unknown> {
  const bctx = Object.create(ctx) as BatchContext<unknown> & { progress: unknown };
  Object.defineProperties(bctx, {
    batchSize: { value: settings.batchSize, enumerable: true },
    concurrency: { value: settings.concurrency, enumerable: true },
    progress: {
      value: () => {
        throw new SchedulerError('a batch job reports its own progress (its checkpoint): ctx.progress is not for its items');
      },
    },
  });
  return bctx;
}

function throwIfAborted(ctx: JobContext<unknown>): void {
  if (ctx.signal.aborted) throw ctx.signal.reason;
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
