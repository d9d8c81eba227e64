import { jobColumns } from './job-rows.js';
import type { SqlNames } from './names.js';
import { FREE_HANDBACKS, RESCUE_BACKOFF_BASE, RESCUE_BACKOFF_MAX } from '../../store/job-store.js';
import { errorClassColumn, movedColumns, sideTables } from './side-tables.sql.js';
import { appendError, countErrors, stillRunning, type Statement } from './statement.js';
import { uniqueKeySql } from './unique-keys.sql.js';

/**
 * Changes made from outside the running attempt: cancel, rescue, resurrect, unclaim.
 * @internal
 */
export function lifecycleStatements(n: SqlNames) {
  const side = sideTables(n);
  const uniqueKeys = uniqueKeySql(n);
  // Claimed but never started (a prefetch buffer): back to available as if
  // the claim had not happened, guarded by the attempt like every ack.
  const unclaim = `
    WITH written AS (
      UPDATE ${n.jobs} j
      SET state = 'available', attempt = j.attempt - 1, started_at = NULL, heartbeat_at = NULL, node = NULL,
        run_at = coalesce($3::timestamptz, j.run_at)
      FROM unnest($1::bigint[], $2::int[]) AS r(id, attempt)
      WHERE j.id = r.id AND j.attempt = r.attempt AND ${stillRunning('j')}
      RETURNING ${movedColumns('j')}
    ),
    ${side.requeue('queued', 'written')},
    ${side.settle('left', 'written')}
    SELECT id FROM written`;

  // A claim whose answer never came (its connection dropped): the jobs still
  // running under its token go back the same way; no node knows of them.
  const unclaimToken = `
    WITH written AS (
      UPDATE ${n.jobs} j
      SET state = 'available', attempt = j.attempt - 1, started_at = NULL, heartbeat_at = NULL, node = NULL
      WHERE j.id = ANY(ARRAY(SELECT unnest(c.ids) FROM ${n.claims} c WHERE c.token = $1::uuid)) AND j.claim = $1::uuid AND ${stillRunning('j')}
      RETURNING ${movedColumns('j')}
    ),
    ${side.requeue('queued', 'written')},
    ${side.settle('left', 'written')}
    SELECT id FROM written`;

  // The job's ready row goes first (see `unready`); `before` then locks the
  // job and keeps it as it was, and RETURNING hands back that "before"
  // picture while the UPDATE writes the cancelled one. A running job handed back (retry, release)
  // between the two keeps the ready row its hand-back wrote: the next claim
  // deletes it and claims nothing for it (it claims only available jobs).
  const cancel = `
    WITH ${side.unready('unready', 'b.id = $1')},
    before AS (
      SELECT ${jobColumns('b')}, b.claim FROM ${n.jobs} b
      WHERE b.id = $1 AND b.state IN ('available', 'running') AND (SELECT count(*) FROM unready) >= 0
      FOR UPDATE
    ),
    written AS (
      UPDATE ${n.jobs} j
      SET state = 'cancelled', finished_at = $2::timestamptz,
        errors = ${appendError('j.errors', `jsonb_build_object('attempt', j.attempt, 'at', $3::text, 'name', 'CancelledError', 'message', $4::text, 'kind', 'cancel')`)}
      FROM before
      WHERE j.id = before.id
      RETURNING ${movedColumns('j')}, before.state AS was
    ),
    ${side.unkey('unkeyed', 'written', 'true')},
    ${side.count('counted', 'written', 1)},
    ${side.settle('left', `(SELECT * FROM written WHERE was = 'running')`)}
    SELECT ${jobColumns('before')} FROM before JOIN written ON written.id = before.id`;

  // SKIP LOCKED: a job being acknowledged right now is not lost, and two
  // lifeline sweeps (two nodes) split the work instead of queueing on it.
  const since = `coalesce(j.heartbeat_at, j.started_at)`;
  const sinceText = `to_char(${since} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  // Never started (claimed ahead by a node that died): given back at once and not counted, its first few times.
  const free = `(j.started_at IS NULL AND ${countErrors('j.errors', 'unstarted')} < ${FREE_HANDBACKS})`;
  // rescueBackoff() of the store contract, in SQL: at once the first time, then doubling.
  const rescues = countErrors('j.errors', 'lease-lost');
  const rescueDelay = `CASE WHEN ${rescues} = 0 THEN interval '0' ELSE
      least(${RESCUE_BACKOFF_BASE} * power(2, ${rescues} - 1), ${RESCUE_BACKOFF_MAX}) * interval '1 millisecond' END`;
  // Running jobs are found through the claims that hold them (no index
  // names the state); a claim none of whose jobs still runs under it (its
  // count missed an ack) is dropped here.
  const rescue = `
    WITH lost AS (
      SELECT l.id FROM ${n.claims} c CROSS JOIN LATERAL (
        SELECT j.id FROM ${n.jobs} j
        WHERE j.id = ANY(c.ids) AND j.claim = c.token AND j.state = 'running'
          AND (j.heartbeat_at < $1::timestamptz OR (j.heartbeat_at IS NULL AND j.started_at < $1::timestamptz))
        FOR UPDATE SKIP LOCKED
        OFFSET 0 -- kept apart, so each claim's jobs are probed by primary key whatever the statistics say
      ) l
    ),
    written AS (
    UPDATE ${n.jobs} j
    SET state = CASE WHEN ${free} OR j.attempt < j.max_attempts THEN 'available' ELSE 'dead' END,
      max_attempts = CASE WHEN ${free} THEN j.max_attempts + 1 ELSE j.max_attempts END,
      run_at = CASE WHEN ${free} THEN $2::timestamptz WHEN j.attempt < j.max_attempts THEN $2::timestamptz + ${rescueDelay} ELSE j.run_at END,
      finished_at = CASE WHEN ${free} OR j.attempt < j.max_attempts THEN j.finished_at ELSE $2::timestamptz END,
      errors = ${appendError(
        'j.errors',
        `CASE WHEN ${free} THEN
          jsonb_build_object('attempt', j.attempt, 'at', $3::text, 'name', 'RescuedError', 'kind', 'unstarted',
            'message', 'claimed ahead by a node that stopped before starting it (no heartbeat since ' || ${sinceText} || '); this attempt is not counted')
        ELSE
          jsonb_build_object('attempt', j.attempt, 'at', $3::text, 'name', 'RescuedError', 'kind', 'lease-lost', 'message', 'no heartbeat since ' || ${sinceText})
        END`,
      )}
    WHERE j.id = ANY(ARRAY(SELECT id FROM lost))
    RETURNING ${jobColumns('j')}, j.claim, ${errorClassColumn('j')}
    ),
    ${side.requeue('queued', 'written')},
    ${side.unkey('unkeyed', 'written')},
    ${side.count('counted', 'written', 1)},
    ${side.settle('left', 'written')},
    idle AS (
      DELETE FROM ${n.claims} c
      WHERE (SELECT count(*) FROM ${n.jobs} j WHERE j.id = ANY(c.ids) AND j.claim = c.token AND j.state = 'running') = 0
    )
    SELECT * FROM written`;

  // The job takes its unique key back first, with the default states and no
  // period (a key row keeps no copy of the job's own); when another job
  // holding it blocks that, nothing changes and the answer says so (`duplicate`).
  const resurrect = `
    WITH target AS (
      SELECT id, unique_key, queue, state FROM ${n.jobs} WHERE id = $1 AND state IN ('dead', 'discarded', 'cancelled') FOR UPDATE
    ),
    ${uniqueKeys.take('keyed', `SELECT unique_key, id, 7, NULL::bigint, $2::timestamptz FROM target WHERE unique_key IS NOT NULL`)},
    written AS (
      UPDATE ${n.jobs} j
      SET state = 'available', run_at = $2::timestamptz, finished_at = NULL, max_attempts = j.attempt + coalesce(j.retry_budget, greatest(1, j.max_attempts)),
        retry_budget = coalesce(j.retry_budget, greatest(1, j.max_attempts))
      FROM target t
      WHERE j.id = t.id AND (t.unique_key IS NULL OR EXISTS (SELECT 1 FROM keyed))
      RETURNING ${jobColumns('j')}
    ),
    ${side.requeue('queued', 'written')},
    ${side.count('uncounted', '(SELECT t.* FROM target t JOIN written w ON w.id = t.id)', -1)}
    SELECT w.*, false AS duplicate FROM written w
    UNION ALL
    SELECT ${jobColumns('j')}, true FROM target t JOIN ${n.jobs} j ON j.id = t.id
    WHERE t.unique_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM keyed)`;

  // Its ready row goes first and comes back at its new place (see `unready`).
  const makeDue = `
    WITH ${side.unready('unready', `b.id = $1 AND b.state = 'available' AND b.run_at > $2::timestamptz`)},
    written AS (
      UPDATE ${n.jobs} j SET run_at = $2::timestamptz
      WHERE j.id = $1 AND j.state = 'available' AND j.run_at > $2::timestamptz AND (SELECT count(*) FROM unready) >= 0
      RETURNING ${jobColumns('j')}
    ),
    ${side.requeue('queued', 'written')}
    SELECT * FROM written`;

  return {
    makeDue: (id: string, now: Date): Statement => ({ text: makeDue, values: [id, now] }),
    unclaim: (ids: readonly string[], attempts: readonly number[], runAt: Date | null = null): Statement => ({ text: unclaim, values: [ids, attempts, runAt] }),
    unclaimToken: (token: string): Statement => ({ text: unclaimToken, values: [token] }),
    cancel: (id: string, now: Date, reason: string): Statement => ({
      text: cancel,
      values: [id, now, now.toISOString(), reason.replace(/\u0000/g, '\uFFFD')],
    }),
    rescue: (before: Date, now: Date): Statement => ({ text: rescue, values: [before, now, now.toISOString()] }),
    resurrect: (id: string, now: Date): Statement => ({ text: resurrect, values: [id, now] }),
  };
}
