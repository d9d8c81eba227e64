import { jobColumns } from './job-rows.js';
import type { SqlNames } from './names.js';
import { FREE_HANDBACKS, RESCUE_BACKOFF_BASE, RESCUE_BACKOFF_MAX } from '../../store/job-store.js';
import { appendError, countErrors, stillRunning, type Statement } from './statement.js';

/**
 * Changes made from outside the running attempt: cancel, rescue, resurrect, unclaim.
 * @internal
 */
export function lifecycleStatements(n: SqlNames) {
  // Claimed but never started (a prefetch buffer): back to available as if
  // the claim had not happened, guarded by the attempt like every ack.
  const unclaim = `
    UPDATE ${n.jobs} j
    SET state = 'available', attempt = j.attempt - 1, started_at = NULL, heartbeat_at = NULL, node = NULL
    FROM unnest($1::bigint[], $2::int[]) AS r(id, attempt)
    WHERE j.id = r.id AND j.attempt = r.attempt AND ${stillRunning('j')}`;

  // The CTE locks the row and keeps it as it was; RETURNING hands back that
  // "before" picture while the UPDATE writes the cancelled one.
  const cancel = `
    WITH before AS (
      SELECT ${jobColumns('b')} FROM ${n.jobs} b
      WHERE b.id = $1 AND b.state IN ('available', 'running')
      FOR UPDATE
    )
    UPDATE ${n.jobs} j
    SET state = 'cancelled', finished_at = $2::timestamptz,
      errors = ${appendError('j.errors', `jsonb_build_object('attempt', j.attempt, 'at', $3::text, 'name', 'CancelledError', 'message', $4::text, 'kind', 'cancel')`)}
    FROM before
    WHERE j.id = before.id
    RETURNING ${jobColumns('before')}`;

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
  const rescue = `
    WITH lost AS (
      SELECT id FROM ${n.jobs}
      WHERE state = 'running' AND (heartbeat_at < $1::timestamptz OR (heartbeat_at IS NULL AND started_at < $1::timestamptz))
      FOR UPDATE SKIP LOCKED
    )
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
    FROM lost
    WHERE j.id = lost.id
    RETURNING ${jobColumns('j')}`;

  // A unique key taken by another active job makes this fail with 23505 on the
  // unique-key index; the store reports DuplicateJobError.
  const resurrect = `
    UPDATE ${n.jobs} j
    SET state = 'available', run_at = $2::timestamptz, finished_at = NULL, max_attempts = j.attempt + greatest(1, j.max_attempts)
    WHERE j.id = $1 AND j.state IN ('dead', 'discarded', 'cancelled')
    RETURNING ${jobColumns('j')}`;

  return {
    unclaim: (ids: readonly string[], attempts: readonly number[]): Statement => ({ text: unclaim, values: [ids, attempts] }),
    cancel: (id: string, now: Date, reason: string): Statement => ({
      text: cancel,
      values: [id, now, now.toISOString(), reason.replace(/\u0000/g, '\uFFFD')],
    }),
    rescue: (before: Date, now: Date): Statement => ({ text: rescue, values: [before, now, now.toISOString()] }),
    resurrect: (id: string, now: Date): Statement => ({ text: resurrect, values: [id, now] }),
  };
}
