import type { DeadLetterQuery } from '../../store/dead-letter-store.js';
import { jobColumns } from './job-rows.js';
import type { SqlNames } from './names.js';
import { sideTables } from './side-tables.sql.js';
import { uniqueKeySql } from './unique-keys.sql.js';
import type { Statement } from './statement.js';

/**
 * Dead letters through their own table (migration 10): filters, counts and
 * pruning read only it, never the history in `jobs`.
 * @internal
 */
export function deadLetterStatements(n: SqlNames) {
  const side = sideTables(n);
  const uniqueKeys = uniqueKeySql(n);
  const where = (query: DeadLetterQuery, values: unknown[]): string => {
    const conditions = ['true'];
    const bind = (value: unknown): string => `$${values.push(value)}`;
    if (query.queue !== undefined) conditions.push(`d.queue = ${bind(query.queue)}`);
    if (query.name !== undefined) conditions.push(`d.name = ${bind(query.name)}`);
    if (query.errorClass === 'unclassified') conditions.push('d.error_class IS NULL');
    else if (query.errorClass !== undefined) conditions.push(`d.error_class = ${bind(query.errorClass)}`);
    return conditions.join(' AND ');
  };

  return {
    list: (query: DeadLetterQuery, limit: number, offset: number): Statement => {
      const values: unknown[] = [];
      const text = `SELECT ${jobColumns('j')} FROM ${n.deadLetters} d JOIN ${n.jobs} j ON j.id = d.id AND j.state = 'dead'
        WHERE ${where(query, values)} ORDER BY d.died_at DESC, d.id DESC LIMIT $${values.push(limit)} OFFSET $${values.push(offset)}`;
      return { text, values, readOnly: true };
    },
    // One pass over the table for the three breakdowns and the total; GROUPING
    // tells the sets apart (a bit set: that column is not grouped in the row).
    stats: (): Statement => ({
      text: `SELECT GROUPING(queue, name, cls) AS g, queue, name, cls, count(*)::int AS n
        FROM (SELECT queue, name, coalesce(error_class, 'unclassified') AS cls FROM ${n.deadLetters}) d
        GROUP BY GROUPING SETS ((queue), (name), (cls), ())`,
      values: [],
      readOnly: true,
    }),
    // SKIP LOCKED twice (the dead letter, then its job), so two calls at once
    // split the work and neither waits on a job being pruned or deleted. Each
    // job takes its unique key back first (with `unique: true`'s states, as
    // the single resurrect); one whose key another job holds, or a second
    // dead job of the same key, stays dead, as the single resurrect would refuse it.
    // Those whose key is held are passed over before the limit, not counted in
    // it: a call of `limit` 100 behind a thousand of them still moves 100. A
    // second dead job of a key this statement puts back is counted (no index
    // finds a key's other dead jobs): the caller runs it again for the rest.
    resurrect: (query: DeadLetterQuery, limit: number, now: Date): Statement => {
      const values: unknown[] = [now];
      const filter = where(query, values);
      const text = `
        WITH picked AS (
          SELECT d.id FROM ${n.deadLetters} d
          WHERE ${filter} AND NOT EXISTS (
            SELECT 1 FROM ${n.jobs} dj JOIN ${n.uniqueKeys} k ON k.key = dj.unique_key
            WHERE dj.id = d.id AND k.id <> dj.id AND NOT ${uniqueKeys.released('k', '7', 'NULL::bigint', '$1::timestamptz')})
          ORDER BY d.died_at, d.id LIMIT $${values.push(limit)} FOR UPDATE SKIP LOCKED
        ),
        target AS (
          SELECT id, unique_key, queue, state FROM ${n.jobs} WHERE id = ANY(ARRAY(SELECT id FROM picked)) AND state = 'dead' FOR UPDATE SKIP LOCKED
        ),
        ${uniqueKeys.take('keyed', `SELECT DISTINCT ON (unique_key) unique_key, id, 7, NULL::bigint, $1::timestamptz FROM target WHERE unique_key IS NOT NULL ORDER BY unique_key, id`)},
        written AS (
          UPDATE ${n.jobs} j
          SET state = 'available', run_at = $1::timestamptz, finished_at = NULL, max_attempts = j.attempt + coalesce(j.retry_budget, greatest(1, j.max_attempts)),
            retry_budget = coalesce(j.retry_budget, greatest(1, j.max_attempts))
          FROM target t
          WHERE j.id = t.id AND (t.unique_key IS NULL OR t.id IN (SELECT id FROM keyed))
          RETURNING ${jobColumns('j')}
        ),
        ${side.requeue('queued', 'written')},
        ${side.count('uncounted', '(SELECT t.* FROM target t JOIN written w ON w.id = t.id)', -1)}
        SELECT * FROM written`;
      return { text, values };
    },
    // The `keep` newest are spared, then the oldest of the rest that died
    // before $1 go, at most $3; locked jobs are left for the next round.
    prune: (before: Date | null, keep: number, limit: number): Statement => ({
      text: `
        WITH kept AS (
          SELECT id FROM ${n.deadLetters} ORDER BY died_at DESC, id DESC LIMIT $2
        ),
        picked AS (
          SELECT d.id FROM ${n.deadLetters} d
          WHERE ($1::timestamptz IS NULL OR d.died_at < $1::timestamptz) AND d.id NOT IN (SELECT id FROM kept)
          ORDER BY d.died_at, d.id LIMIT $3
        ),
        gone AS (
          DELETE FROM ${n.jobs} WHERE id IN (
            SELECT id FROM ${n.jobs} WHERE id = ANY(ARRAY(SELECT id FROM picked)) AND state = 'dead' FOR UPDATE SKIP LOCKED)
          RETURNING id, queue, state
        ),
        ${side.count('uncounted', 'gone', -1)}
        SELECT id FROM gone`,
      values: [before, keep, limit],
    }),
    // A taken alert is due again after the lease: a node that dies while its
    // handler runs loses it only until then. SKIP LOCKED: two nodes polling
    // at once take different dead letters, never the same one.
    takeAlerts: (now: Date, leaseMs: number, limit: number): Statement => ({
      text: `
        WITH taken AS (
          UPDATE ${n.deadLetters} d SET alert_at = $1::timestamptz + $2 * interval '1 millisecond', alert_tries = d.alert_tries + 1
          WHERE d.id = ANY(ARRAY(
            SELECT id FROM ${n.deadLetters} WHERE alert_at <= $1::timestamptz ORDER BY alert_at LIMIT $3 FOR UPDATE SKIP LOCKED))
          RETURNING d.id, d.alert_tries
        )
        SELECT ${jobColumns('j')}, t.alert_tries FROM taken t JOIN ${n.jobs} j ON j.id = t.id AND j.state = 'dead' ORDER BY j.finished_at, j.id`,
      values: [now, leaseMs, limit],
    }),
    // Guarded by the death time: a later death of the job has its own alert.
    settleAlert: (id: string, diedAt: Date, retryAt: Date | null): Statement => ({
      text: `UPDATE ${n.deadLetters} SET alert_at = $3::timestamptz WHERE id = $1 AND died_at = $2::timestamptz`,
      values: [id, diedAt, retryAt],
    }),
  };
}
