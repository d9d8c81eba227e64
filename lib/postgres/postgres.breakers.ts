import type {
  BreakerAdmission,
  BreakerChange,
  BreakerOutcome,
  BreakerRecord,
  BreakerSettings,
  BreakerVerdict,
  CircuitBreakerStore,
  CircuitState,
} from '../breakers/circuit-breaker.types.js';
import type { breakerStatements } from './sql/breakers.sql.js';
import type { Statement } from './sql/statement.js';

interface BreakerRow {
  name: string;
  state: CircuitState;
  failures: number;
  successes: number;
  probes: number;
  opened_at: number | null;
  next_probe_at: number | null;
  failure_threshold: number;
  success_threshold: number;
  reset_timeout_ms: number;
  version: number;
  was?: CircuitState;
  held_until?: number | null;
  verdict?: BreakerVerdict;
}

/**
 * Circuit breakers in PostgreSQL, one row each, shared by every node: each
 * call is one statement (see breakers.sql.ts), so a breaker opened by one
 * node holds the jobs of all of them.
 * @internal
 */
export class PostgresBreakerStore implements CircuitBreakerStore {
  constructor(
    private readonly sql: ReturnType<typeof breakerStatements>,
    private readonly rows: <T extends object>(statement: Statement) => Promise<T[]>,
  ) {}

  async define(name: string, settings: BreakerSettings): Promise<BreakerRecord> {
    const [row] = await this.rows<BreakerRow>(this.sql.define(name, settings));
    return toRecord(row!);
  }

  async list(): Promise<BreakerRecord[]> {
    return (await this.rows<BreakerRow>(this.sql.list())).map(toRecord);
  }

  async acquire(name: string, now: Date): Promise<BreakerAdmission | null> {
    const [row] = await this.rows<BreakerRow>(this.sql.acquire(name, now));
    return row ? { record: toRecord(row), from: row.was!, verdict: row.verdict! } : null;
  }

  async record(name: string, outcome: BreakerOutcome, probe: boolean, now: Date): Promise<BreakerChange | null> {
    return this.change(this.sql.record(name, outcome, probe, now));
  }

  async reset(name: string): Promise<BreakerChange | null> {
    return this.change(this.sql.reset(name));
  }

  async release(names: readonly string[], until: Date, now: Date): Promise<string[]> {
    if (names.length === 0) return [];
    return (await this.rows<{ queue: string }>(this.sql.release(names, until, now))).map((row) => row.queue);
  }

  private async change(statement: Statement): Promise<BreakerChange | null> {
    const [row] = await this.rows<BreakerRow>(statement);
    return row ? { record: toRecord(row), from: row.was!, heldUntil: row.held_until == null ? null : Number(row.held_until) } : null;
  }
}

function toRecord(row: BreakerRow): BreakerRecord {
  return {
    name: row.name,
    state: row.state,
    failures: row.failures,
    successes: row.successes,
    probes: row.probes,
    openedAt: row.opened_at === null ? null : Number(row.opened_at),
    nextProbeAt: row.next_probe_at === null ? null : Number(row.next_probe_at),
    failureThreshold: row.failure_threshold,
    successThreshold: row.success_threshold,
    resetTimeout: Number(row.reset_timeout_ms),
    version: Number(row.version),
  };
}
