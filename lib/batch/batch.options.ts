import type { BatchErrorStrategy, BatchWorkerOptions } from './batch.types.js';
import { shown } from '../common/shown.js';

/**
 * A batch's settings, checked.
 * @internal
 */
export interface BatchSettings {
  batchSize: number;
  concurrency: number;
  onError: BatchErrorStrategy;
  maxItems: number | null;
}

const STRATEGIES: readonly BatchErrorStrategy[] = ['continue', 'stop', 'retry'];

/**
 * The batch settings of `@BatchWorker` options, with their defaults;
 * `fail(option, detail)` throws the caller's configuration error.
 * @internal
 */
export function resolveBatchSettings(options: BatchWorkerOptions, fail: (option: string, detail: string) => never): BatchSettings {
  const int = (option: 'batchSize' | 'concurrency' | 'maxItems', value: unknown, max: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
      fail(option, `must be an integer from 1 to ${max.toLocaleString('en-US')}, got ${shown(value)}`);
    }
    return value as number;
  };
  const onError = options.onError ?? 'continue';
  if (!STRATEGIES.includes(onError)) fail('onError', `must be one of ${STRATEGIES.map((s) => `'${s}'`).join(', ')}, got ${shown(onError)}`);
  return {
    batchSize: int('batchSize', options.batchSize ?? 100, 10_000),
    concurrency: int('concurrency', options.concurrency ?? 1, 1_000),
    onError,
    maxItems: options.maxItems === undefined ? null : int('maxItems', options.maxItems, Number.MAX_SAFE_INTEGER),
  };
}
