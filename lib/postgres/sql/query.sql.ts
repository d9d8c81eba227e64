import type { JobFilter, JobState } from '../../store/job.types.js';
import { jobColumns } from './job-rows.js';
import type { SqlNames } from './names.js';
import { movedColumns, sideTables } from './side-tables.sql.js';
import type { Statement } from './statement.js';

/**
 * Reads and deletions of jobs. Filters become bound parameters; only their shape changes the text.
 * @internal
 */
export function queryStatements(n: SqlNames) {
  const side = sideTables(n);
  const where = (filter: JobFilter, values: unknown[]): string => {
    const conditions: string[] = [];
    const bind = (value: unknown): string => `$${values.push(value)}`;
    if (filter.name !== undefined) conditions.push(`j.name = ${bind(filter.name)}`);
    if (filter.nameOrSchedule !== undefined) {
      const p = bind(filter.nameOrSchedule);
      conditions.push(`(j.name = ${p} OR j.schedule = ${p})`);
    }
    if (filter.queue !== undefined) conditions.push(`j.queue = ${bind(filter.queue)}`);
    if (filter.states !== undefined) conditions.push(`j.state = ANY(${bind([...filter.states])}::text[])`);
    if (filter.finishedBefore !== undefined) conditions.push(`j.finished_at < ${bind(filter.finishedBefore)}::timestamptz`);
    return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  };

  return {
    get: (id: string): Statement => ({
      name: n.statement('get'),
      text: `SELECT ${jobColumns('j')} FROM ${n.jobs} j WHERE j.id = $1`,
      values: [id],
    }),
    /** Newest (highest id) first unless `order: 'asc'`; `limit` must be a positive integer or absent. */
    list: (filter: JobFilter, limit: number | null): Statement => {
      const values: unknown[] = [];
      const order = filter.order === 'asc' ? 'ASC' : 'DESC';
      const text = `SELECT ${jobColumns('j')} FROM ${n.jobs} j ${where(filter, values)} ORDER BY j.id ${order}${
        limit === null ? '' : ` LIMIT $${values.push(limit)}`
      }`;
      return { text, values };
    },
    count: (filter: JobFilter): Statement => {
      const values: unknown[] = [];
      return { text: `SELECT count(*)::bigint AS count FROM ${n.jobs} j ${where(filter, values)}`, values };
    },
    // Ready rows first, in the claim's lock order (see the cancel statement).
    delete: (ids: readonly string[]): Statement => ({
      text: `
        WITH unready AS (
          DELETE FROM ${n.ready} r USING ${n.jobs} b
          WHERE b.id = ANY($1::bigint[]) AND r.queue = b.queue AND r.priority = b.priority AND r.run_at = b.run_at AND r.id = b.id
          RETURNING r.id
        ),
        gone AS (
          DELETE FROM ${n.jobs} j WHERE j.id = ANY($1::bigint[]) AND (SELECT count(*) FROM unready) >= 0
          RETURNING ${movedColumns('j')}
        ),
        ${side.unkey('unkeyed', 'gone', 'true')},
        ${side.settle('left', `(SELECT * FROM gone WHERE state = 'running')`)}
        SELECT id FROM gone`,
      values: [ids],
    }),
    // Bounded, oldest id first (no index names the finish time, which would
    // keep every completion from being a HOT update; ids come close to finish
    // order), and SKIP LOCKED so a pruner never waits on (or blocks) a job
    // that is being changed right now. Only final states have finish times, so
    // no side table holds a pruned job.
    prune: (states: readonly JobState[], before: Date, limit: number): Statement => ({
      text: `DELETE FROM ${n.jobs} WHERE id IN (
        SELECT id FROM ${n.jobs}
        WHERE finished_at < $2::timestamptz AND state = ANY($1::text[])
        ORDER BY id
        LIMIT $3
        FOR UPDATE SKIP LOCKED)`,
      values: [[...states], before, limit],
    }),
    // One scan, one GROUP BY; queues that only have a stored state get zeros.
    queueCounts: (now: Date): Statement => ({
      text: `SELECT queue,
        count(*) FILTER (WHERE state = 'available' AND run_at <= $1::timestamptz)::int AS available,
        count(*) FILTER (WHERE state = 'available' AND run_at > $1::timestamptz)::int AS scheduled,
        count(*) FILTER (WHERE state = 'running')::int AS running,
        count(*) FILTER (WHERE state = 'completed')::int AS completed,
        count(*) FILTER (WHERE state = 'dead')::int AS dead,
        count(*) FILTER (WHERE state = 'discarded')::int AS discarded,
        count(*) FILTER (WHERE state = 'cancelled')::int AS cancelled
      FROM (
        SELECT queue, state, run_at FROM ${n.jobs}
        UNION ALL
        SELECT name, NULL, NULL FROM ${n.queueStates}
      ) j
      GROUP BY queue`,
      values: [now],
    }),
    // min() over the queue's part of the ready list: it is ordered by
    // priority first, so this reads every available job of the queue (cheap
    // while the queue is short, which is when a runner asks).
    nextRunAt: (queue: string): Statement => ({
      name: n.statement('next_run_at'),
      text: `SELECT min(run_at) AS run_at FROM ${n.ready} WHERE queue = $1`,
      values: [queue],
    }),
  };
}
