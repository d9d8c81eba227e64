import type { Clock } from '../clock/clock.js';

interface Entry {
  value: Promise<unknown>;
  /** Epoch ms the value was read at; `Infinity` while the read is under way. */
  readAt: number;
}

/**
 * Values kept for a while on the scheduler's clock, so that probes asked
 * often cost one read per period; callers that come while a read is under
 * way share it. Each caller says how old a value it takes (`maxAgeMs`), so
 * readers with different periods (a probe, the metrics) share one read. A
 * read that fails is not kept.
 * @internal
 */
export class TtlCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock) {}

  get<T>(key: string, maxAgeMs: number, read: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && (entry.readAt === Infinity || this.clock.now() - entry.readAt < maxAgeMs)) return entry.value as Promise<T>;
    const fresh: Entry = { value: Promise.resolve(), readAt: Infinity };
    fresh.value = read().then(
      (value) => {
        fresh.readAt = this.clock.now();
        return value;
      },
      (error: unknown) => {
        if (this.entries.get(key) === fresh) this.entries.delete(key);
        throw error;
      },
    );
    this.entries.set(key, fresh);
    return fresh.value as Promise<T>;
  }

  /** The value kept under `key` when it has settled, without reading (`undefined` when none). */
  async peek<T>(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (!entry || entry.readAt === Infinity) return undefined;
    return (await entry.value) as T;
  }
}

/**
 * `work`, or a rejection after `ms` on `clock`, whichever comes first.
 * @internal
 */
export function withinMs<T>(work: Promise<T>, ms: number, clock: Clock, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    work.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
