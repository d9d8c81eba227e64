import { FREE_HANDBACKS, type AttemptRef, type HeartbeatRef } from '../../store/job-store.js';
import type { SqlNames } from './names.js';
import { movedColumns, sideTables } from './side-tables.sql.js';
import { appendError, countErrors, stillRunning, type Statement } from './statement.js';

/**
 * One `complete` in a batch ({@link ackStatements}.completeMany).
 * @internal
 */
export interface CompleteRecord {
  id: string;
  attempt: number;
  /** The result's JSON text, or `null`. */
  result: string | null;
  finishedAt: Date;
  /** Delete the job instead (`retention.completed: 0`). */
  forget: boolean;
}

/**
 * Acknowledgements and heartbeats, for one store's tables. Each changes a job
 * only while it is `running` with the caller's attempt (fencing): a late ack
 * from a rescued, cancelled or re-claimed attempt matches no row.
 * @internal
 */
export function ackStatements(n: SqlNames) {
  const side = sideTables(n);
  const owned = `id = $1 AND attempt = $2 AND state = 'running'`;
  // One attempt's ack (retry, fail, release): the job row, then its side tables in the same statement.
  const single = (write: string): string => `
    WITH written AS (${write} WHERE ${owned} RETURNING ${movedColumns()}),
    ${side.requeue('queued', 'written')},
    ${side.unkey('unkeyed', 'written')},
    ${side.count('counted', 'written', 1)},
    ${side.settle('left', 'written')}
    SELECT id FROM written`;
  // A job claimed ahead and acknowledged before a heartbeat recorded its start: its last heartbeat stands in.
  const started = (alias = ''): string => `coalesce(${alias}started_at, ${alias}heartbeat_at)`;
  // Every `complete` that arrives in one tick is written by this ONE statement
  // (one round trip, one commit); RETURNING says which attempts still owned
  // their job, so each caller is answered on its own. The ids travel as an
  // array ($1) and each job's values in one jsonb object keyed by id ($2):
  // the jobs are found by primary key and each reads its own entry, with no
  // join for the planner to get wrong (joined with an unnest of arrays, a
  // small table was scanned whole and hashed, 4 of the 7 ms of a 500-job
  // completion, and a generic plan rescanned the unnest once per job). The
  // id array is read through ARRAY(SELECT …) so no plan depends on its length.
  // Finish times are epoch milliseconds (exact: an interval holds whole
  // microseconds); building ISO dates was 4 % of a drain's Node CPU.
  // The answer is one row: how many were written and, only when that is not
  // all of them, which (`id:attempt`), so the common case parses no row per job.
  const entry = `($2::jsonb -> (j.id::text))`;
  const answered = (write: string): string => `
    WITH written AS (${write}
      WHERE j.id = ANY(ARRAY(SELECT unnest($1::bigint[]))) AND j.attempt = (${entry} ->> 0)::int AND ${stillRunning('j')}
      RETURNING j.attempt, ${movedColumns('j')}
    ),
    ${side.unkey('unkeyed', 'written', 'true')},
    ${side.count('counted', 'written', 1)},
    ${side.settle('left', 'written')}
    SELECT count(*)::int AS count,
      CASE WHEN count(*) < cardinality($1::bigint[]) THEN array_agg(id::text || ':' || attempt) END AS written
    FROM written`;
  const completeMany = answered(`
      UPDATE ${n.jobs} j
      SET state = 'completed', result = nullif(${entry} -> 2, 'null'::jsonb),
        finished_at = 'epoch'::timestamptz + (${entry} ->> 1)::float8 * interval '1 millisecond',
        started_at = ${started('j.')}`);
  // `retention.completed: 0`: the job goes, fenced the same way.
  const forgetMany = answered(`DELETE FROM ${n.jobs} j`);
  const retry = single(`
    UPDATE ${n.jobs} SET state = 'available', run_at = $3::timestamptz, errors = ${appendError('errors', '$4::jsonb')}, started_at = ${started()}`);
  const fail = single(`
    UPDATE ${n.jobs}
    SET state = $3::text, finished_at = $4::timestamptz, errors = ${appendError('errors', '$5::jsonb')}, started_at = ${started()}`);
  // The interrupted attempt still counts (a late ack from it stays stale);
  // only a job on its last attempt gets one more, and only its first few
  // times (FREE_HANDBACKS): a job interrupted at every shutdown ends dead.
  const free = `${countErrors('errors', 'shutdown')} < ${FREE_HANDBACKS}`;
  const release = single(`
    UPDATE ${n.jobs}
    SET state = CASE WHEN attempt < max_attempts OR ${free} THEN 'available' ELSE 'dead' END,
      finished_at = CASE WHEN attempt < max_attempts OR ${free} THEN finished_at ELSE $3::timestamptz END,
      run_at = $3::timestamptz, errors = ${appendError('errors', '$4::jsonb')}, started_at = ${started()},
      max_attempts = CASE WHEN attempt >= max_attempts AND ${free} THEN max_attempts + 1 ELSE max_attempts END`);
  // A start the claim left out (a job claimed ahead) is recorded by the first heartbeat that carries it.
  const heartbeat = `
    UPDATE ${n.jobs} j SET heartbeat_at = $3::timestamptz,
      started_at = coalesce(j.started_at, 'epoch'::timestamptz + r.started_ms * interval '1 millisecond')
    FROM unnest($1::bigint[], $2::int[], $4::float8[]) AS r(id, attempt, started_ms)
    WHERE j.id = r.id AND j.attempt = r.attempt AND ${stillRunning('j')}
    RETURNING j.id, j.attempt`;
  // No index names `progress`: a HOT update of the running row, fenced by its attempt like an ack.
  const progress = `UPDATE ${n.jobs} j SET progress = $3::jsonb WHERE j.id = $1 AND j.attempt = $2 AND ${stillRunning('j')}`;
  const ackState = `SELECT state, attempt, errors -> -1 AS last_error FROM ${n.jobs} WHERE id = $1`;

  return {
    /** Records of one kind: all kept (`completed`) or all forgotten (deleted). */
    completeMany: (records: readonly CompleteRecord[]): Statement => {
      // Ids are bigint text and the rest numbers: array literals by hand,
      // without pg's quoting; results are JSON text already (a null result is JSON null).
      let ids = '';
      let entries = '';
      for (const r of records) {
        ids += `,${r.id}`;
        entries += `,"${r.id}":[${r.attempt},${r.finishedAt.getTime()},${r.result ?? 'null'}]`;
      }
      const values = [`{${ids.slice(1)}}`, `{${entries.slice(1)}}`];
      if (records[0]?.forget) return { name: n.statement('forget'), text: forgetMany, values };
      return { name: n.statement('complete'), text: completeMany, values };
    },
    retry: (ref: AttemptRef, runAt: Date, errorJson: string): Statement => ({
      name: n.statement('retry'),
      text: retry,
      values: [ref.id, ref.attempt, runAt, errorJson],
    }),
    fail: (ref: AttemptRef, state: 'dead' | 'discarded', errorJson: string, now: Date): Statement => ({
      name: n.statement('fail'),
      text: fail,
      values: [ref.id, ref.attempt, state, now, errorJson],
    }),
    release: (ref: AttemptRef, runAt: Date, errorJson: string): Statement => ({
      name: n.statement('release'),
      text: release,
      values: [ref.id, ref.attempt, runAt, errorJson],
    }),
    heartbeat: (refs: readonly HeartbeatRef[], now: Date): Statement => ({
      name: n.statement('heartbeat'),
      text: heartbeat,
      values: [refs.map((r) => r.id), refs.map((r) => r.attempt), now, refs.map((r) => (r.startedAt === undefined ? now.getTime() : r.startedAt))],
    }),
    /** `progressJson`: the checked progress as JSON text. */
    progress: (ref: AttemptRef, progressJson: string): Statement => ({
      name: n.statement('progress'),
      text: progress,
      values: [ref.id, ref.attempt, progressJson],
    }),
    /** Where a job stands, to tell an ack that landed before its connection dropped from a stale one. */
    ackState: (id: string): Statement => ({ text: ackState, values: [id] }),
  };
}
