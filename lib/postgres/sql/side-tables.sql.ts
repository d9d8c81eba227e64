import type { SqlNames } from './names.js';

/**
 * The columns a statement that moves jobs returns, so the side tables can
 * follow in the same statement (see {@link sideTables}); `error_class` is
 * the class of the last error, which a dead letter is counted under.
 * @internal
 */
export function movedColumns(alias?: string): string {
  const p = alias ? `${alias}.` : '';
  return ['id', 'claim', 'state', 'queue', 'priority', 'run_at', 'name', 'schedule', 'pinned_node', 'serial_key', 'unique_key', 'finished_at']
    .map((column) => `${p}${column}`)
    .concat(errorClassColumn(alias))
    .join(', ');
}

/**
 * The class of a job row's last error, as the column `error_class` (see {@link movedColumns}).
 * @internal
 */
export function errorClassColumn(alias?: string): string {
  const p = alias ? `${alias}.` : '';
  // Only a dead job's is read: a completion (the hot path) never opens its errors.
  return `CASE WHEN ${p}state = 'dead' THEN ${p}errors -> -1 ->> 'errorClass' END AS error_class`;
}

/**
 * CTEs that keep the side tables of migration 4 in step with jobs that a
 * data-modifying CTE (`from`, returning {@link movedColumns}) just moved.
 * Each runs in the statement that moves the jobs, so the tables never
 * disagree with `jobs` after a commit. `from` is a CTE name or a
 * parenthesised subquery; `settle` takes only jobs that were running.
 * @internal
 */
export function sideTables(n: SqlNames) {
  return {
    /**
     * Deletes the ready rows of the jobs `ids` (a condition on `b.id`) names,
     * their keys computed from the job rows. A claim locks a ready row, then
     * its job; a statement that also changes the job must run this first and
     * reach the job only after it (`(SELECT count(*) FROM <cte>) >= 0` in its
     * WHERE, an InitPlan), so the two lock in the same order and never deadlock.
     */
    unready: (cte: string, ids: string): string => `${cte} AS (
      DELETE FROM ${n.ready} r USING ${n.jobs} b
      WHERE ${ids} AND r.queue = b.queue AND r.priority = b.priority AND r.run_at = b.run_at AND r.id = b.id
      RETURNING r.id
    )`,
    /** Jobs of `from` now available get their ready row. */
    requeue: (cte: string, from: string): string => `${cte} AS (
      INSERT INTO ${n.ready} (queue, priority, run_at, id, name, schedule, pinned_node, serial_key)
      SELECT f.queue, f.priority, f.run_at, f.id, f.name, f.schedule, f.pinned_node, f.serial_key FROM ${from} f WHERE f.state = 'available'
      -- A row left by a cancel that raced a hand-back may sit at the very same place: it is this job's, keep it.
      ON CONFLICT DO NOTHING
    )`,
    /**
     * Jobs of `from` that left `running`: their serial key is free, and their
     * claim has that many fewer running jobs (gone when none is left). Two
     * acks of one claim at the same instant may each leave the count above
     * zero; the rescue sweep drops a claim with no running job.
     */
    settle: (cte: string, from: string): string => `${cte}_counts AS (
      SELECT f.claim AS token, count(*)::int AS k FROM ${from} f WHERE f.claim IS NOT NULL GROUP BY f.claim
    ),
    ${cte}_done AS (
      DELETE FROM ${n.claims} c USING ${cte}_counts s WHERE c.token = s.token AND c.pending <= s.k
    ),
    ${cte}_kept AS (
      UPDATE ${n.claims} c SET pending = c.pending - s.k FROM ${cte}_counts s WHERE c.token = s.token AND c.pending > s.k
    ),
    ${cte}_serial AS (
      DELETE FROM ${n.serialRunning} r USING ${from} f WHERE f.serial_key IS NOT NULL AND r.serial_key = f.serial_key AND r.id = f.id
    )`,
    /**
     * Finished jobs of `from` counted in (`sign` 1) or out (-1) of the queue
     * counts and, when dead, the dead letters (when cancelled or discarded,
     * the rare finished list of migration 15): in when they finish (with an
     * `onDeadLetter` alert due at once), out when they are pruned, deleted or
     * resurrected (`from` then holds them as they were). Going in, `from`
     * also has `finished_at` and `error_class`.
     */
    count: (cte: string, from: string, sign: 1 | -1): string => `${cte}_dead AS (
      ${
        sign === 1
          ? `INSERT INTO ${n.deadLetters} AS d (id, queue, name, error_class, died_at, alert_at)
            SELECT f.id, f.queue, f.name, f.error_class, f.finished_at, f.finished_at FROM ${from} f WHERE f.state = 'dead'
            -- A row left by a removal that could not see it (see prune's orphans) is this death's now.
            ON CONFLICT (id) DO UPDATE SET queue = EXCLUDED.queue, name = EXCLUDED.name, error_class = EXCLUDED.error_class,
              died_at = EXCLUDED.died_at, alert_at = EXCLUDED.alert_at, alert_tries = 0`
          : `DELETE FROM ${n.deadLetters} d USING ${from} f WHERE f.state = 'dead' AND d.id = f.id`
      }
    ),
    ${cte}_rare AS (
      ${
        sign === 1
          ? `INSERT INTO ${n.rareFinished} AS r (id, queue, state)
            SELECT f.id, f.queue, f.state FROM ${from} f WHERE f.state IN ('cancelled', 'discarded')
            -- A row left by a removal that could not see it is this job's now.
            ON CONFLICT (id) DO UPDATE SET queue = EXCLUDED.queue, state = EXCLUDED.state`
          : `DELETE FROM ${n.rareFinished} r USING ${from} f WHERE f.state IN ('cancelled', 'discarded') AND r.id = f.id`
      }
    ),
    ${cte} AS (
      INSERT INTO ${n.queueCounts} AS q (queue, state, slot, n)
      SELECT f.queue, f.state, pg_backend_pid() % 16, ${sign === 1 ? '' : '-'}count(*) FROM ${from} f
      WHERE f.state IN ('completed', 'dead', 'discarded', 'cancelled')
      GROUP BY f.queue, f.state
      ON CONFLICT (queue, state, slot) DO UPDATE SET n = q.n + EXCLUDED.n
    )`,
    /**
     * Jobs of `from` that are final (or `gone`: deleted) no longer hold their
     * serial key as a waiting job, nor their unique key, but for a completed
     * job whose unique states include 'completed': its key outlives it
     * (marked `completed`) until a later insert takes it over or the job is deleted.
     */
    unkey: (cte: string, from: string, where = `f.state NOT IN ('available', 'running')`, gone = false): string => `${cte} AS (
      DELETE FROM ${n.jobKeys} k USING ${from} f
      WHERE ${where} AND f.serial_key IS NOT NULL -- most jobs have no key: no probe for them
        AND k.kind = 's' AND k.key = f.serial_key AND k.id = f.id
    ),
    ${cte}_unique AS (
      DELETE FROM ${n.uniqueKeys} k USING ${from} f
      WHERE ${where} AND f.unique_key IS NOT NULL AND k.key = f.unique_key AND k.id = f.id
        ${gone ? '' : `AND NOT (f.state = 'completed' AND k.states & 8 <> 0)`}
    )${
      gone
        ? ''
        : `,
    ${cte}_kept AS (
      UPDATE ${n.uniqueKeys} k SET completed = true FROM ${from} f
      WHERE ${where} AND f.unique_key IS NOT NULL AND k.key = f.unique_key AND k.id = f.id
        AND f.state = 'completed' AND k.states & 8 <> 0
    )`
    }`,
  };
}
