import type { JsonScalar, JsonValue } from '../../common/json.js';
import type { JobFilter, JobState } from '../../store/job.types.js';
import { jobColumns, toDbCursor } from './job-rows.js';
import type { SqlNames } from './names.js';
import { movedColumns, sideTables } from './side-tables.sql.js';
import type { Statement } from './statement.js';

/** `value` under `path`, as an object: `nested(['a', 'b'], 1)` is `{ a: { b: 1 } }`. */
function nested(path: readonly string[], value: JsonScalar): JsonValue {
  return path.reduceRight<JsonValue>((inner, key) => ({ [key]: inner }), value);
}

/**
 * Reads and deletions of jobs. Filters become bound parameters; only their shape changes the text.
 * @internal
 */
export function queryStatements(n: SqlNames) {
  const side = sideTables(n);
  const finished = (state: string): string => `coalesce(sum(n) FILTER (WHERE state = '${state}'), 0)`;
  /**
   * The ids of the jobs in `state` (of the queue bound as `queue`) from a side
   * table that stays small, or `null`. Not the ready list: a backlog may hold
   * a million ids, where walking the history newest first finds recent ones at once.
   */
  const sideIds = (state: JobState, queue: string | null): string | null => {
    if (state === 'running') return `SELECT unnest(ids) FROM ${n.claims}`;
    const inQueue = queue === null ? '' : ` AND queue = ${queue}`;
    if (state === 'dead') return `SELECT id FROM ${n.deadLetters} WHERE true${inQueue}`;
    if (state === 'cancelled' || state === 'discarded') return `SELECT id FROM ${n.rareFinished} WHERE state = '${state}'${inQueue}`;
    return null;
  };
  /**
   * A count of the waiting or dead jobs (of a queue) read from the ready
   * list or the dead letters alone, which hold exactly those jobs: through
   * `jobs` a capped count of 10,000 available jobs walked the history until
   * it had seen them (1.4 s with 10 dashboard clients on 1M jobs). `null`
   * when the filter asks for anything else.
   */
  const sideCount = (filter: JobFilter, values: unknown[], cap: number | undefined): string | null => {
    const { states } = filter;
    const other =
      filter.name !== undefined ||
      filter.nameOrSchedule !== undefined ||
      filter.finishedBefore !== undefined ||
      filter.afterId !== undefined ||
      (filter.nameContains?.length ?? 0) > 0 ||
      (filter.tags?.length ?? 0) > 0 ||
      (filter.args?.length ?? 0) > 0;
    if (other || states === undefined || states.length === 0) return null;
    const table = states.every((s) => s === 'available') ? n.ready : states.every((s) => s === 'dead') ? n.deadLetters : null;
    if (table === null) return null;
    const inQueue = filter.queue === undefined ? '' : ` WHERE queue = $${values.push(filter.queue)}`;
    const limit = cap === undefined ? '' : ` LIMIT $${values.push(cap)}`;
    return `SELECT count(*)::bigint AS count FROM (SELECT 1 FROM ${table}${inQueue}${limit}) c`;
  };
  const where = (filter: JobFilter, values: unknown[]): string => {
    const conditions: string[] = [];
    const bind = (value: unknown): string => `$${values.push(value)}`;
    if (filter.name !== undefined) conditions.push(`j.name = ${bind(filter.name)}`);
    if (filter.nameOrSchedule !== undefined) {
      const p = bind(filter.nameOrSchedule);
      conditions.push(`(j.name = ${p} OR j.schedule = ${p})`);
    }
    const queue = filter.queue === undefined ? null : bind(filter.queue);
    if (queue !== null) conditions.push(`j.queue = ${queue}`);
    if (filter.states !== undefined) {
      conditions.push(`j.state = ANY(${bind([...filter.states])}::text[])`);
      // No index of jobs names the state (migration 4), so a rare state is
      // looked for through the whole history, newest first: the running jobs
      // of an idle node behind 1M finished ones took 0.25 s (bench/dashboard.mjs).
      // Running, dead, cancelled and discarded jobs are found through their side tables instead.
      const ids = filter.states.map((state) => sideIds(state, queue));
      if (ids.length > 0 && ids.every((sql) => sql !== null)) conditions.push(`j.id = ANY(ARRAY(${ids.join(' UNION ALL ')}))`);
    }
    if (filter.finishedBefore !== undefined) conditions.push(`j.finished_at < ${bind(filter.finishedBefore)}::timestamptz`);
    if (filter.afterId !== undefined) conditions.push(`j.id ${filter.order === 'asc' ? '>' : '<'} ${bind(toDbCursor(filter.afterId))}::bigint`);
    // lower() under the C collation folds ASCII only, as SQLite's and Lua's do; strpos needs no LIKE escaping.
    for (const text of filter.nameContains ?? []) conditions.push(`strpos(lower(j.name COLLATE "C"), lower(${bind(text)}::text COLLATE "C")) > 0`);
    if (filter.tags !== undefined && filter.tags.length > 0) conditions.push(`j.tags @> ${bind([...filter.tags])}::text[]`);
    // Containment of {"a":{"b":value}}: equal to "the value at a.b is value, same type"
    // for a path of object keys, and a GIN index on args (jsonb_path_ops), if the
    // application adds one, serves it. None is created: it would tax every insert.
    for (const { path, value } of filter.args ?? []) conditions.push(`j.args @> ${bind(JSON.stringify(nested(path, value)))}::jsonb`);
    return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  };

  return {
    get: (id: string): Statement => ({
      name: n.statement('get'),
      text: `SELECT ${jobColumns('j')} FROM ${n.jobs} j WHERE j.id = $1`,
      values: [id],
      readOnly: true,
    }),
    /** Newest (highest id) first unless `order: 'asc'`; `limit` must be a positive integer or absent. */
    list: (filter: JobFilter, limit: number | null): Statement => {
      const values: unknown[] = [];
      const order = filter.order === 'asc' ? 'ASC' : 'DESC';
      const text = `SELECT ${jobColumns('j')} FROM ${n.jobs} j ${where(filter, values)} ORDER BY j.id ${order}${
        limit === null ? '' : ` LIMIT $${values.push(limit)}`
      }`;
      return { text, values, readOnly: true };
    },
    /** With `cap`, the count stops there: a LIMIT inside, so at most `cap` rows are read. */
    count: (filter: JobFilter, cap?: number): Statement => {
      const values: unknown[] = [];
      const fromSide = sideCount(filter, values, cap);
      if (fromSide !== null) return { text: fromSide, values, readOnly: true };
      const clause = where(filter, values);
      if (cap === undefined) return { text: `SELECT count(*)::bigint AS count FROM ${n.jobs} j ${clause}`, values, readOnly: true };
      return { text: `SELECT count(*)::bigint AS count FROM (SELECT 1 FROM ${n.jobs} j ${clause} LIMIT $${values.push(cap)}) c`, values, readOnly: true };
    },
    // Ready rows first, in the claim's lock order (see `unready`). With
    // `states`, a job claimed meanwhile is left alone: its claim holds the
    // ready row (so `unready` waits, then finds none) and has made the row
    // `running` by the time the DELETE re-reads it.
    delete: (ids: readonly string[], states: readonly string[] | null): Statement => ({
      text: `
        WITH ${side.unready('unready', 'b.id = ANY($1::bigint[]) AND ($2::text[] IS NULL OR b.state = ANY($2::text[]))')},
        gone AS (
          DELETE FROM ${n.jobs} j
          WHERE j.id = ANY($1::bigint[]) AND ($2::text[] IS NULL OR j.state = ANY($2::text[])) AND (SELECT count(*) FROM unready) >= 0
          RETURNING ${movedColumns('j')}
        ),
        ${side.unkey('unkeyed', 'gone', 'true', true)},
        ${side.count('uncounted', 'gone', -1)},
        ${side.settle('left', `(SELECT * FROM gone WHERE state = 'running')`)}
        SELECT id FROM gone`,
      values: [ids, states],
    }),
    // Bounded, oldest id first (no index names the finish time, which would
    // keep every completion from being a HOT update; ids come close to finish
    // order), and SKIP LOCKED so a pruner never waits on (or blocks) a job
    // that is being changed right now. Pruned jobs leave the counters and
    // dead letters in the same statement. `after` (the last id of a previous
    // full batch) goes on from there: a backlog's later batches neither walk
    // again the jobs that stay (30 days of dead letters sit below the
    // history that expires today) nor sweep for orphans again.
    prune: (states: readonly JobState[], before: Date, limit: number, after: string | null): Statement => ({
      text: `
        WITH gone AS (
          DELETE FROM ${n.jobs} WHERE id IN (
            SELECT id FROM ${n.jobs}
            WHERE finished_at < $2::timestamptz AND state = ANY($1::text[])${after === null ? '' : ' AND id > $4::bigint'}
            ORDER BY id
            LIMIT $3
            FOR UPDATE SKIP LOCKED)
          RETURNING id, queue, state, unique_key
        ),
        -- A completed job may have kept its unique key (unique states with 'completed').
        unkeyed AS (
          DELETE FROM ${n.uniqueKeys} k USING gone g WHERE g.unique_key IS NOT NULL AND k.key = g.unique_key AND k.id = g.id
        ),
        ${side.count('uncounted', 'gone', -1)}${
          after === null
            ? `,
        -- Dead letters of jobs gone or no longer dead: a statement that removed
        -- a job could not see a dead letter committed after its snapshot began.
        orphans AS (
          DELETE FROM ${n.deadLetters} d WHERE NOT EXISTS (SELECT 1 FROM ${n.jobs} j WHERE j.id = d.id AND j.state = 'dead')
        ),
        -- The same for the rare finished list (a job resurrected or deleted as it was cancelled).
        rare_orphans AS (
          DELETE FROM ${n.rareFinished} r WHERE NOT EXISTS (SELECT 1 FROM ${n.jobs} j WHERE j.id = r.id AND j.state = r.state)
        )`
            : ''
        }
        SELECT count(*)::int AS n, max(id)::text AS last FROM gone`,
      values: after === null ? [[...states], before, limit] : [[...states], before, limit, after],
    }),
    // Never reads the history: queued jobs from the ready list, running ones
    // through their claims, finished ones from the counters. Queues that only
    // have a stored state (or counters back at zero) get zeros.
    // coalesce: a NULL count would make the queue's total NULL, and HAVING would drop it.
    queueCounts: (now: Date): Statement => ({
      text: `SELECT queue,
        sum(available)::int AS available, sum(scheduled)::int AS scheduled, sum(running)::int AS running,
        sum(completed)::int AS completed, sum(dead)::int AS dead, sum(discarded)::int AS discarded, sum(cancelled)::int AS cancelled
      FROM (
        SELECT queue, count(*) FILTER (WHERE run_at <= $1::timestamptz) AS available, count(*) FILTER (WHERE run_at > $1::timestamptz) AS scheduled,
          0 AS running, 0 AS completed, 0 AS dead, 0 AS discarded, 0 AS cancelled
        FROM ${n.ready} GROUP BY queue
        UNION ALL
        SELECT r.queue, 0, 0, count(*), 0, 0, 0, 0
        FROM ${n.claims} c CROSS JOIN LATERAL (
          SELECT j.queue FROM ${n.jobs} j WHERE j.id = ANY(c.ids) AND j.claim = c.token AND j.state = 'running' OFFSET 0
        ) r
        GROUP BY r.queue
        UNION ALL
        SELECT queue, 0, 0, 0, ${finished('completed')}, ${finished('dead')}, ${finished('discarded')}, ${finished('cancelled')}
        FROM ${n.queueCounts} GROUP BY queue
        UNION ALL
        SELECT name, 0, 0, 0, 0, 0, 0, 0 FROM ${n.queueStates}
      ) c
      GROUP BY queue
      HAVING sum(available + scheduled + running + completed + dead + discarded + cancelled) > 0
        OR queue IN (SELECT name FROM ${n.queueStates})`,
      values: [now],
      readOnly: true,
    }),
    // min() over the queue's part of the ready list: it is ordered by
    // priority first, so this reads every available job of the queue (the
    // health check's read, cached). Jobs a paused name or schedule holds back
    // wait on purpose; the states are probed only while something is paused.
    nextRunAt: (queue: string): Statement => ({
      name: n.statement('next_run_at'),
      text: `SELECT min(run_at) AS run_at FROM ${n.ready} r WHERE queue = $1
        AND (NOT EXISTS (SELECT 1 FROM ${n.scheduleStates} WHERE paused)
          OR NOT EXISTS (SELECT 1 FROM ${n.scheduleStates} p WHERE p.paused AND (p.name = r.name OR p.name = r.schedule)))`,
      values: [queue],
      readOnly: true,
    }),
  };
}
