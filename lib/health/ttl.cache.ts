import type { Clock } from '../clock/clock.js';

interface Entry {
  value: Promise<unknown>;
  /** Epoch ms after which the value is read again; `Infinity` while it is under way. */
  until: number;
}

/**
 * Values kept for a while on the scheduler's clock, so that probes asked
 * often cost one read per period; callers that come while a read is under
 * way share it. A read that fails is not kept.
 * @internal
 */
export class TtlCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock) {}

  get<T>(key: string, ttlMs: number, read: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && entry.until > this.clock.now()) return entry.value as Promise<T>;
    const fresh: Entry = { value: Promise.resolve(), until: Infinity };
    fresh.value = read().then(
      (value) => {
        fresh.until = this.clock.now() + ttlMs;
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
    if (!entry || entry.until === Infinity) return undefined;
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
