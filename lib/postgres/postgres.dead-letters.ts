import type { DeadLetterAlert, DeadLetterCounts, DeadLetterPrune, DeadLetterQuery } from '../store/dead-letter-store.js';
import type { Job } from '../store/job.types.js';
import type { deadLetterStatements } from './sql/dead-letters.sql.js';
import { toDbId, toJob, type JobRow } from './sql/job-rows.js';
import type { Statement } from './sql/statement.js';

// Postgres takes LIMIT and OFFSET as bigint; a larger JavaScript number would not bind.
const MAX_INT = 2 ** 31 - 1;

/**
 * The dead-letter calls of the PostgreSQL store (see `DeadLetterStore`), each one statement.
 * @internal
 */
export class PostgresDeadLetters {
  constructor(
    private readonly sql: ReturnType<typeof deadLetterStatements>,
    private readonly rows: <T extends object = JobRow>(statement: Statement) => Promise<T[]>,
  ) {}

  async list(query: DeadLetterQuery, limit: number, offset: number): Promise<Job[]> {
    if (!(limit > 0)) return [];
    return (await this.rows(this.sql.list(query, bounded(limit), bounded(offset)))).map(toJob);
  }

  async stats(): Promise<DeadLetterCounts> {
    type Row = { g: number; queue: string | null; name: string | null; cls: string | null; n: number };
    const counts: DeadLetterCounts = { total: 0, byQueue: {}, byName: {}, byErrorClass: {} };
    for (const row of await this.rows<Row>(this.sql.stats())) {
      // GROUPING(queue, name, cls): 0b011 grouped by queue, 0b101 by name, 0b110 by class, 0b111 the total.
      if (row.g === 3) counts.byQueue[row.queue as string] = row.n;
      else if (row.g === 5) counts.byName[row.name as string] = row.n;
      else if (row.g === 6) counts.byErrorClass[row.cls as string] = row.n;
      else counts.total = row.n;
    }
    return counts;
  }

  /**
   * One statement, again while it moves fewer than asked: a second dead job
   * of a key the statement puts back was counted in its limit and stays
   * dead; the next statement passes over it (its key is held now) before
   * the limit, as over any other. Ends at a statement that moves nothing.
   */
  async resurrect(query: DeadLetterQuery, limit: number, now: Date): Promise<Job[]> {
    const want = bounded(limit);
    const moved: Job[] = [];
    while (moved.length < want) {
      const rows = await this.rows(this.sql.resurrect(query, want - moved.length, now));
      if (rows.length === 0) break;
      for (const row of rows) moved.push(toJob(row));
    }
    return moved;
  }

  async prune({ before, keep, limit }: DeadLetterPrune): Promise<number> {
    if (!(limit > 0)) return 0;
    return (await this.rows(this.sql.prune(before, bounded(keep), bounded(limit)))).length;
  }

  async takeAlerts(now: Date, leaseMs: number, limit: number): Promise<DeadLetterAlert[]> {
    if (!(limit > 0)) return [];
    const rows = await this.rows<JobRow & { alert_tries: number }>(this.sql.takeAlerts(now, Math.max(0, leaseMs), bounded(limit)));
    return rows.map((row) => ({ job: toJob(row), tries: Number(row.alert_tries) }));
  }

  async settleAlert(id: string, diedAt: Date, retryAt: Date | null): Promise<void> {
    const dbId = toDbId(id);
    if (dbId !== null) await this.rows(this.sql.settleAlert(dbId, diedAt, retryAt));
  }
}

function bounded(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.min(MAX_INT, Math.ceil(n))) : MAX_INT;
}
