// The module's binding: Node 20's global `performance` is a lazy getter, called again on every use.
import { performance } from 'node:perf_hooks';
import type { Attributes } from '@opentelemetry/api';
import { secondsHistogram, type SchedulerHistogram, type SchedulerHistograms } from './histograms.js';
import { bindHistogram, type BoundHistogram } from './local-histogram.js';
import { ATTR } from './metric-attributes.js';

/**
 * The `db.operation.name` a timed store call is recorded under: `complete`
 * is every end of an attempt (completed, retried, dead or discarded).
 * @internal
 */
export type StoreOperation = 'claim' | 'complete' | 'enqueue' | 'heartbeat' | 'rescue' | 'prune';

const OPERATIONS: readonly StoreOperation[] = ['claim', 'complete', 'enqueue', 'heartbeat', 'rescue', 'prune'];

/**
 * `scheduler.store.operation.duration`, recorded by the callers of the
 * store around their calls: the store itself is not wrapped, so a call
 * costs two clock reads and a bucket increment, and no promise of its own
 * (the executor times a completion in the continuation it already has).
 * `null` wherever metrics or `storeOperations` are off.
 * @internal
 */
export class StoreTimer {
  private readonly succeeded: Record<StoreOperation, BoundHistogram>;
  private readonly failed = new Map<string, Attributes>();

  private readonly histogram: SchedulerHistogram;

  constructor(histograms: SchedulerHistograms, buckets: readonly number[]) {
    const histogram = histograms.histogram(
      'scheduler.store.operation.duration',
      secondsHistogram('How long calls to the job store took, by operation.', buckets),
    );
    this.histogram = histogram;
    this.succeeded = Object.fromEntries(OPERATIONS.map((op) => [op, bindHistogram(histogram, { 'db.operation.name': op })])) as Record<
      StoreOperation,
      BoundHistogram
    >;
  }

  /** The start of a call, for {@link record}. */
  now(): number {
    return performance.now();
  }

  /** A call that began at `started` ended; `error` when it rejected. */
  record(operation: StoreOperation, started: number, error?: unknown): void {
    const seconds = (performance.now() - started) / 1000;
    if (error === undefined) return this.succeeded[operation](seconds);
    const type = error instanceof Error ? error.constructor.name || error.name : typeof error;
    const key = `${operation}\0${type}`;
    let set = this.failed.get(key);
    if (!set) this.failed.set(key, (set = { 'db.operation.name': operation, [ATTR.errorType]: type }));
    this.histogram.record(seconds, set);
  }
}

/**
 * `call()` timed as `operation` when there is a timer, else `call()` as it is.
 * @internal
 */
export function timeStore<T>(timer: StoreTimer | null | undefined, operation: StoreOperation, call: () => Promise<T>): Promise<T> {
  if (!timer) return call();
  const started = timer.now();
  return call().then(
    (result) => {
      timer.record(operation, started);
      return result;
    },
    (error: unknown) => {
      timer.record(operation, started, error);
      throw error;
    },
  );
}
