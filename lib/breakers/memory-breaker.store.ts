import { admit, newBreaker, reset, saved, settle } from './breaker.machine.js';
import type { BreakerAdmission, BreakerChange, BreakerOutcome, BreakerRecord, BreakerSettings, CircuitBreakerStore } from './circuit-breaker.types.js';

/**
 * Breakers in the process (the memory store's): the state machine applied
 * to a map. Calls run one at a time on the event loop, so each is atomic.
 * Jobs held by a breaker live in the job store, which releases them.
 * @internal
 */
export class MemoryBreakerStore implements CircuitBreakerStore {
  private readonly breakers = new Map<string, BreakerRecord>();

  constructor(private readonly releaseJobs: (names: readonly string[], until: Date, now: Date) => string[]) {}

  async define(name: string, settings: BreakerSettings): Promise<BreakerRecord> {
    const existing = this.breakers.get(name);
    const record = saved(existing ? { ...existing, ...settings } : newBreaker(name, settings));
    this.breakers.set(name, record);
    return { ...record };
  }

  async list(): Promise<BreakerRecord[]> {
    return [...this.breakers.values()].map((record) => ({ ...record }));
  }

  async acquire(name: string, now: Date): Promise<BreakerAdmission | null> {
    const record = this.breakers.get(name);
    if (!record) return null;
    return this.save(admit(record, now.getTime()));
  }

  async record(name: string, outcome: BreakerOutcome, probe: boolean, now: Date): Promise<BreakerChange | null> {
    const record = this.breakers.get(name);
    return record ? this.save({ ...settle(record, outcome, probe, now.getTime()), heldUntil: record.nextProbeAt }) : null;
  }

  async reset(name: string): Promise<BreakerChange | null> {
    const record = this.breakers.get(name);
    return record ? this.save({ ...reset(record), heldUntil: record.nextProbeAt }) : null;
  }

  async release(names: readonly string[], until: Date, now: Date): Promise<string[]> {
    return this.releaseJobs(names, until, now);
  }

  private save<T extends BreakerChange>(change: T): T {
    const record = saved(change.record);
    this.breakers.set(record.name, record);
    return { ...change, record: { ...record } };
  }
}
