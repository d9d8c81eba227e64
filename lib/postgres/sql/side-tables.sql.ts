import type { SqlNames } from './names.js';

/**
 * The columns a statement that moves jobs returns, so the side tables can
 * follow in the same statement (see {@link sideTables}).
 * @internal
 */
export function movedColumns(alias?: string): string {
  return ['id', 'claim', 'state', 'queue', 'priority', 'run_at', 'name', 'schedule', 'pinned_node', 'serial_key', 'unique_key']
    .map((column) => (alias ? `${alias}.${column}` : column))
    .join(', ');
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
     * counts and, when dead, the dead letters: in when they finish, out when
     * they are pruned, deleted or resurrected (`from` then holds them as they
     * were).
     */
    count: (cte: string, from: string, sign: 1 | -1): string => `${cte}_dead AS (
      ${
        sign === 1
          ? `INSERT INTO ${n.deadLetters} (id) SELECT f.id FROM ${from} f WHERE f.state = 'dead' ON CONFLICT DO NOTHING`
          : `DELETE FROM ${n.deadLetters} d USING ${from} f WHERE f.state = 'dead' AND d.id = f.id`
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
