import { admit, newBreaker, parseBreaker, reset, saved, settle } from '../breakers/breaker.machine.js';
import type {
  BreakerAdmission,
  BreakerChange,
  BreakerOutcome,
  BreakerRecord,
  BreakerSettings,
  CircuitBreakerStore,
} from '../breakers/circuit-breaker.types.js';
import { compareNames } from '../store/memory/queries.js';
import type { RedisConnection } from './redis.client.js';

/**
 * Breakers shared by every node of a Redis store: one JSON record per name
 * in the hash `brk`. The state machine (lib/breakers/breaker.machine.ts)
 * runs here, on the record as read, and the write is a compare-and-set
 * script on that text, tried again when another node wrote first: so every
 * change is atomic and follows the same rules as the other stores, without
 * a second copy of the machine in Lua.
 * @internal
 */
export class RedisBreakers implements CircuitBreakerStore {
  constructor(private readonly redis: RedisConnection) {}

  async define(name: string, settings: BreakerSettings): Promise<BreakerRecord> {
    const change = await this.change(
      name,
      (record) => ({ record: record ? { ...record, ...settings } : newBreaker(name, settings), from: record?.state ?? 'closed' }),
      true,
    );
    return change!.record;
  }

  async list(): Promise<BreakerRecord[]> {
    const all = await this.redis.client.hgetall(`${this.redis.base}brk`);
    return Object.values(all)
      .map(parseBreaker)
      .sort((a, b) => compareNames(a.name, b.name));
  }

  acquire(name: string, now: Date): Promise<BreakerAdmission | null> {
    return this.change(name, (record) => (record ? admit(record, now.getTime()) : null));
  }

  record(name: string, outcome: BreakerOutcome, probe: boolean, now: Date): Promise<BreakerChange | null> {
    return this.change(name, (record) => (record ? { ...settle(record, outcome, probe, now.getTime()), heldUntil: record.nextProbeAt } : null));
  }

  reset(name: string): Promise<BreakerChange | null> {
    return this.change(name, (record) => (record ? { ...reset(record), heldUntil: record.nextProbeAt } : null));
  }

  async release(names: readonly string[], until: Date, now: Date): Promise<string[]> {
    if (names.length === 0) return [];
    return (await this.redis.run('schedReleaseHeld', '', until.getTime(), now.getTime(), ...names)) as string[];
  }

  private async change<T extends BreakerChange>(name: string, next: (record: BreakerRecord | null) => T | null, create = false): Promise<T | null> {
    for (;;) {
      const text = await this.redis.client.hget(`${this.redis.base}brk`, name);
      if (text === null && !create) return null;
      const record = text === null ? null : parseBreaker(text);
      const change = next(record);
      if (!change) return null;
      // Unchanged: nothing written, the version stays.
      if (record !== null && JSON.stringify(change.record) === JSON.stringify(record)) return change;
      const written = { ...change, record: saved(change.record) };
      if (Number(await this.redis.run('schedCas', 'brk', name, text ?? '', JSON.stringify(written.record))) === 1) return written;
    }
  }
}
