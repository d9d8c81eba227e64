import { admit, newBreaker, parseBreaker, reset, saved, settle } from '../breakers/breaker.machine.js';
import type {
  BreakerAdmission,
  BreakerChange,
  BreakerOutcome,
  BreakerRecord,
  BreakerSettings,
  CircuitBreakerStore,
} from '../breakers/circuit-breaker.types.js';
import type { SqliteConnection } from './sqlite.connection.js';
import type { SqliteJobTable } from './sqlite.job-table.js';

/**
 * Circuit breakers shared by every process that opens the file: one row per
 * breaker, changed by the state machine (lib/breakers/breaker.machine.ts)
 * inside a write transaction, so two processes' probes never both take the
 * last probe slot.
 * @internal
 */
export class SqliteBreakerStore implements CircuitBreakerStore {
  constructor(
    private readonly sqlite: SqliteConnection,
    private readonly table: SqliteJobTable,
  ) {}

  async define(name: string, settings: BreakerSettings): Promise<BreakerRecord> {
    return this.sqlite.write(() => {
      const existing = this.load(name);
      return this.save(existing ? { ...existing, ...settings } : newBreaker(name, settings));
    });
  }

  async list(): Promise<BreakerRecord[]> {
    const rows = this.table.sql('SELECT record FROM breakers ORDER BY name').all() as { record: string }[];
    return rows.map((row) => parseBreaker(row.record));
  }

  async acquire(name: string, now: Date): Promise<BreakerAdmission | null> {
    return this.change(name, (record) => admit(record, now.getTime()));
  }

  async record(name: string, outcome: BreakerOutcome, probe: boolean, now: Date): Promise<BreakerChange | null> {
    return this.change(name, (record) => ({ ...settle(record, outcome, probe, now.getTime()), heldUntil: record.nextProbeAt }));
  }

  async reset(name: string): Promise<BreakerChange | null> {
    return this.change(name, (record) => ({ ...reset(record), heldUntil: record.nextProbeAt }));
  }

  /** Jobs of these names held until `until` (their due time) become due at `now`; resolves to their queues. */
  async release(names: readonly string[], until: Date, now: Date): Promise<string[]> {
    if (names.length === 0) return [];
    return this.sqlite.write(() => {
      const rows = this.table
        .sql(`UPDATE jobs SET run_at = ? WHERE state = 'available' AND run_at = ? AND name IN (SELECT value FROM json_each(?)) RETURNING queue`)
        .all(now.getTime(), until.getTime(), JSON.stringify(names)) as { queue: string }[];
      return [...new Set(rows.map((row) => row.queue))];
    });
  }

  private async change<T extends BreakerChange>(name: string, apply: (record: BreakerRecord) => T): Promise<T | null> {
    return this.sqlite.write(() => {
      const record = this.load(name);
      if (!record) return null;
      const change = apply(record);
      return { ...change, record: this.save(change.record) };
    });
  }

  private load(name: string): BreakerRecord | undefined {
    const row = this.table.sql('SELECT record FROM breakers WHERE name = ?').get(name) as { record: string } | undefined;
    return row ? parseBreaker(row.record) : undefined;
  }

  private save(record: BreakerRecord): BreakerRecord {
    const next = saved(record);
    this.table.sql('INSERT OR REPLACE INTO breakers (name, record) VALUES (?, ?)').run(next.name, JSON.stringify(next));
    return next;
  }
}
