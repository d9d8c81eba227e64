import { Injectable, SetMetadata, applyDecorators } from '@nestjs/common';
import { BATCH_METADATA, WORKER_METADATA } from '../scheduler.constants.js';
import type { BatchWorkerOptions } from './batch.types.js';

/**
 * Marks a class as a batch worker (and as `@Injectable()`): a job (named
 * after the class unless `name` says otherwise) that runs
 * `fetchItems(cursor, ctx)` page by page and `processItem(item, ctx)` for
 * each item, checkpointing after every page. Scheduled and enqueued like
 * any `@Worker`; its result is a `BatchResult`. See docs/batches.md.
 * @publicApi
 */
export function BatchWorker(options: BatchWorkerOptions = {}): ClassDecorator {
  const { batchSize, concurrency, onError, maxItems, ...worker } = options;
  return applyDecorators(Injectable(), SetMetadata(WORKER_METADATA, worker), SetMetadata(BATCH_METADATA, { batchSize, concurrency, onError, maxItems }));
}
