import type { DeadLetterAlert, DeadLetterCounts, DeadLetterPrune, DeadLetterQuery } from '../store/dead-letter-store.js';
import type { Job } from '../store/job.types.js';
import { toJob, type JobRow } from './job-rows.js';
import type { SqliteJobTable } from './sqlite.job-table.js';
import type { SqliteLifecycle } from './sqlite.lifecycle.js';

/** Dead letters read at a time by a bulk resurrect, at most. */
const RESURRECT_PAGE = 500;

/** A WHERE clause (over `dead_letters d`) for a dead-letter query, and `also` (bound after the query's values). */
function where(query: DeadLetterQuery, also?: string): { clause: string; values: unknown[] } {
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const [column, value] of [
    ['d.queue', query.queue],
    ['d.name', query.name],
    ['d.error_class', query.errorClass],
  ] as const) {
    if (value === undefined) continue;
    parts.push(`${column} = ?`);
    values.push(value);
  }
  if (also !== undefined) parts.push(also);
  return { clause: parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '', values };
}

/**
 * Dead letters from the `dead_letters` table (kept by every move to and from
 * `dead`), so lists, counts and pruning never read the history. Calls that
 * change rows run inside the caller's write transaction.
 * @internal
 */
export class SqliteDeadLetters {
  constructor(
    private readonly table: SqliteJobTable,
    private readonly lifecycle: SqliteLifecycle,
  ) {}

  list(query: DeadLetterQuery, limit: number, offset: number): Job[] {
    if (!(limit > 0)) return [];
    const { clause, values } = where(query);
    const rows = this.table
      .sql(`SELECT j.* FROM dead_letters d JOIN jobs j ON j.id = d.id${clause} ORDER BY d.died_at DESC, d.id DESC LIMIT ? OFFSET ?`)
      .all(...values, bound(limit), Math.max(0, Math.floor(offset))) as JobRow[];
    return rows.map(toJob);
  }

  stats(): DeadLetterCounts {
    const counts: DeadLetterCounts = { total: 0, byQueue: {}, byName: {}, byErrorClass: {} };
    const tally = (into: Record<string, number>, column: string): void => {
      for (const row of this.table.sql(`SELECT ${column} AS key, count(*) AS n FROM dead_letters GROUP BY ${column}`).all() as { key: string; n: number }[]) {
        into[row.key] = row.n;
      }
    };
    counts.total = (this.table.sql('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
    tally(counts.byQueue, 'queue');
    tally(counts.byName, 'name');
    tally(counts.byErrorClass, 'error_class');
    return counts;
  }

  /**
   * Oldest death first; one whose unique key another active job holds stays
   * dead. The candidates are read a page at a time, after the last one seen
   * on the (died_at, id) index: a call reads about what it moves, not every
   * match (a retry of 100 among a million dead letters reads a page).
   */
  resurrect(query: DeadLetterQuery, limit: number, now: number): Job[] {
    const moved: Job[] = [];
    if (!(limit > 0)) return moved;
    const { clause, values } = where(query, '(d.died_at, d.id) > (?, ?)');
    const page = this.table.sql(`SELECT d.id, d.died_at FROM dead_letters d${clause} ORDER BY d.died_at, d.id LIMIT ?`);
    let after: [number, number] = [Number.MIN_SAFE_INTEGER, 0];
    while (moved.length < limit) {
      const size = Math.min(RESURRECT_PAGE, Math.max(32, Math.ceil(limit - moved.length)));
      const ids = page.all(...values, ...after, size) as { id: number; died_at: number }[];
      for (const { id } of ids) {
        if (moved.length >= limit) break;
        const row = this.table.row(id);
        if (row?.unique_key != null && this.table.uniqueHolder(row.unique_key, {}, now)) continue;
        const job = this.lifecycle.resurrect(String(id), now);
        if (job) moved.push(job);
      }
      if (ids.length < size) break;
      const last = ids[ids.length - 1]!;
      after = [last.died_at, last.id];
    }
    return moved;
  }

  /**
   * Deletes the oldest `limit` of the dead letters that died before
   * `before` and are not among the `keep` newest. The `keep`-th newest is
   * found by the (died_at, id) index and the doomed read from it up to
   * `limit`, so a call costs what it deletes, however many are kept.
   */
  prune({ before, keep, limit }: DeadLetterPrune): number {
    if (!(limit > 0)) return 0;
    // `keep` counts every dead letter, whatever its age: spare the newest overall, not the newest of the old ones.
    const edge =
      keep > 0
        ? (this.table.sql('SELECT died_at, id FROM dead_letters ORDER BY died_at DESC, id DESC LIMIT 1 OFFSET ?').get(keep - 1) as
            { died_at: number; id: number } | undefined)
        : undefined;
    if (keep > 0 && edge === undefined) return 0;
    const cutoff = before === null ? Number.MAX_SAFE_INTEGER : before.getTime();
    const doomed = (
      edge
        ? this.table
            .sql('SELECT id FROM dead_letters WHERE died_at < ? AND (died_at, id) < (?, ?) ORDER BY died_at, id LIMIT ?')
            .all(cutoff, edge.died_at, edge.id, bound(limit))
        : this.table.sql('SELECT id FROM dead_letters WHERE died_at < ? ORDER BY died_at, id LIMIT ?').all(cutoff, bound(limit))
    ) as { id: number }[];
    for (const { id } of doomed) this.table.forget(id);
    return doomed.length;
  }

  takeAlerts(now: number, leaseMs: number, limit: number): DeadLetterAlert[] {
    if (!(limit > 0)) return [];
    const due = this.table.sql('SELECT id FROM dead_letters WHERE alert_at <= ? ORDER BY alert_at, id LIMIT ?').all(now, bound(limit)) as { id: number }[];
    const lease = this.table.sql('UPDATE dead_letters SET alert_at = ?, alert_tries = alert_tries + 1 WHERE id = ? RETURNING alert_tries');
    return due.map(({ id }) => {
      const { alert_tries: tries } = lease.get(now + leaseMs, id) as { alert_tries: number };
      return { job: toJob(this.table.row(id)!), tries };
    });
  }

  settleAlert(id: number, diedAt: number, retryAt: number | null): void {
    this.table.sql('UPDATE dead_letters SET alert_at = ? WHERE id = ? AND died_at = ?').run(retryAt, id, diedAt);
  }
}

function bound(limit: number): number {
  return Number.isFinite(limit) ? Math.ceil(limit) : -1;
}
