// The module's binding: Node 20's global `performance` is a lazy getter, called again on every use.
import { performance } from 'node:perf_hooks';
import type { Attributes } from '@opentelemetry/api';
import type { JobStore } from '../../store/job-store.js';
import { secondsHistogram, type SchedulerHistograms } from './histograms.js';
import { ATTR } from './metric-attributes.js';

/** The store calls timed, by the `db.operation.name` they are recorded under. */
const OPERATIONS: Partial<Record<keyof JobStore, string>> = {
  claim: 'claim',
  // Every end of an attempt is a completion of the claim, whatever its outcome.
  complete: 'complete',
  retry: 'complete',
  fail: 'complete',
  insert: 'enqueue',
  heartbeat: 'heartbeat',
  rescue: 'rescue',
  prune: 'prune',
};

/**
 * The store with `scheduler.store.operation.duration` recorded around the
 * calls of {@link OPERATIONS} (seconds, with `error.type` when the call
 * rejects). It is a proxy, so the store's class and every other member stay
 * as they are; the wrappers are made once per method.
 * @internal
 */
export function instrumentStore(store: JobStore, histograms: SchedulerHistograms, buckets: readonly number[]): JobStore {
  const histogram = histograms.histogram(
    'scheduler.store.operation.duration',
    secondsHistogram('How long calls to the job store took, by operation.', buckets),
  );
  const ok = new Map<string, Attributes>();
  const failed = new Map<string, Attributes>();
  const attributes = (operation: string, error?: unknown): Attributes => {
    if (error === undefined) {
      let set = ok.get(operation);
      if (!set) ok.set(operation, (set = { 'db.operation.name': operation }));
      return set;
    }
    const type = error instanceof Error ? error.constructor.name || error.name : typeof error;
    const key = `${operation}\0${type}`;
    let set = failed.get(key);
    if (!set) failed.set(key, (set = { 'db.operation.name': operation, [ATTR.errorType]: type }));
    return set;
  };
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let wrapper = wrappers.get(property);
      if (wrapper) return wrapper;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      const operation = typeof property === 'string' ? OPERATIONS[property as keyof JobStore] : undefined;
      // Every method runs on the store itself, so that its calls to its own methods are not timed twice.
      if (operation === undefined) wrapper = method.bind(target);
      else {
        const succeeded = attributes(operation);
        wrapper = (...args: unknown[]) => {
          const started = performance.now();
          return method.apply(target, args).then(
            (result) => {
              histogram.record((performance.now() - started) / 1000, succeeded);
              return result;
            },
            (error: unknown) => {
              histogram.record((performance.now() - started) / 1000, attributes(operation, error));
              throw error;
            },
          );
        };
      }
      wrappers.set(property, wrapper);
      return wrapper;
    },
  });
}
