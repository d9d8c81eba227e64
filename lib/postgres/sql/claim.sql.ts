import { randomUUID } from 'node:crypto';
import type { ClaimRequest } from '../../store/job-store.js';
import { claimedJson } from './job-rows.js';
import type { SqlNames } from './names.js';
import { refilled, type BucketRef } from './rate-limit.sql.js';
import type { Statement } from './statement.js';

/**
 * A claim statement with its client-made token (also its `$7`), through
 * which a claim whose answer was lost is handed back (`unclaimToken`).
 * @internal
 */
export interface ClaimStatement extends Statement {
  token: string;
}

/** `$1`–`$7` of every claim statement. */
function claimValues(request: ClaimRequest, token: string): unknown[] {
  return [request.queue, request.now, request.node, request.limit, request.maxPriority ?? 9, Math.min(request.start ?? request.limit, request.limit), token];
}

/**
 * The claim, for one store's tables: three named prepared statements (all
 * runnable jobs of a queue, only given ids, or past a cursor), since a
 * prepared statement has one text.
 *
 * It reads the ready list (migration 4), not the jobs: one row per
 * available job, keyed in claim order, so the scan is a range of its
 * primary key. The picked rows are locked with FOR UPDATE SKIP LOCKED, so
 * concurrent claimers (other runners, other nodes) never wait on each other
 * and never get the same job, and deleted by ctid (a TID scan: they are
 * locked by this very statement, so no other can move them in between).
 * The jobs are then found by primary key and written in place: no index of
 * `jobs` names a column the claim changes, so each is a HOT update. The
 * batch gets one row in `claims` (a token generated here, the node, the
 * ids), through which the rescue finds running jobs.
 *
 * Serial keys: within one claim, a job waits when an earlier candidate of
 * the same claim shares its key (the NOT EXISTS on `o`, mirroring the memory
 * store's scan); across claims from different queues at the same instant,
 * the primary key of `serial_running` refuses the second one (the store
 * then claims again). A key counts as held only while its job runs: a
 * statement that ends a running job cannot see a key row that a claim
 * committed after its snapshot began (a cancel or delete racing a claim),
 * so such a row can outlive its job; the claim deletes it (`freed`, before
 * `serial` inserts, through the InitPlan) instead of waiting on it forever.
 *
 * Paused names: whether anything is paused is asked once per claim (an
 * InitPlan), so the per-row probe of the states table runs only while
 * something is paused. The same test as an array (`name <> ALL(ARRAY(…))`)
 * misled the planner into a cost estimate of 1.1M, over `jit_above_cost`:
 * each claim was JIT-compiled, 0.5 s for 1 ms of work.
 *
 * Only the first `start` jobs (the runner's free slots) get a start time;
 * the rest are claimed ahead into its buffer and get theirs from a heartbeat
 * or their acknowledgement, so a rescue can tell jobs a dead node never
 * started (their attempt is given back) from those it interrupted.
 *
 * With a cursor (`ClaimRequest.after`, the key of the runner's previous
 * claim's last job) the scan starts past it: a row comparison on the ready
 * list's own order, so the range begins there and the entries of jobs
 * claimed before (which a session holding an old snapshot keeps from being
 * cleaned up) are never walked again. The serial-key check on `o` still
 * looks at every waiting job, cursor or not: one of the same key behind the
 * cursor comes first.
 *
 * The answer is ONE row: every claimed job, in claim order, in one JSON
 * text. A row per job cost pg a message parse, a row object and a
 * JSON.parse each: 5 % of a drain's Node CPU, the largest single item.
 * @internal
 */
export function claimStatements(n: SqlNames) {
  // Whether a serial key row's job runs: a scalar subquery, so each row is one
  // probe of the jobs' primary key (as a join, the planner hashed a scan of
  // the whole jobs table into every claim).
  const holderRuns = (alias: string): string => `coalesce((SELECT h.state FROM ${n.jobs} h WHERE h.id = ${alias}.id) = 'running', false)`;
  const text = (byIds: boolean, after = false, limited = false): string => {
    const only = (alias: string): string => (byIds ? `AND ${alias}.id = ANY($8::bigint[])` : '');
    const past = after ? `AND (r.priority, r.run_at, r.id) > ($8::smallint, 'epoch'::timestamptz + $9::float8 * interval '1 millisecond', $10::bigint)` : '';
    const claimable = (alias: string): string => `${alias}.queue = $1
        AND ${alias}.run_at <= $2::timestamptz AND ${alias}.priority <= $5
        AND (${alias}.pinned_node IS NULL OR ${alias}.pinned_node = $3)
        ${only(alias)}
        AND (NOT EXISTS (SELECT 1 FROM ${n.scheduleStates} WHERE paused) -- once per claim: mostly nothing is paused
          OR NOT EXISTS (SELECT 1 FROM ${n.scheduleStates} p WHERE p.paused AND (p.name = ${alias}.name OR p.name = ${alias}.schedule)))`;
    return `
    WITH ${limited ? `${limitedHead(n)},` : ''}
    picked AS (
      SELECT r.ctid AS rid, r.priority, r.run_at, r.id, r.serial_key FROM ${n.ready} r
      WHERE ${claimable('r')} ${past}
        AND (r.serial_key IS NULL OR (
          NOT EXISTS (SELECT 1 FROM ${n.serialRunning} s WHERE s.serial_key = r.serial_key AND ${holderRuns('s')})
          AND NOT EXISTS (
            SELECT 1 FROM ${n.ready} o
            WHERE o.serial_key = r.serial_key AND o.id <> r.id AND ${claimable('o')}
              AND (o.priority, o.run_at, o.id) < (r.priority, r.run_at, r.id))))
      ORDER BY r.priority, r.run_at, r.id
      LIMIT ${limited ? '(SELECT n FROM budget)' : '$4'}
      FOR UPDATE OF r SKIP LOCKED
    ),
    gone AS (DELETE FROM ${n.ready} r WHERE r.ctid = ANY(ARRAY(SELECT rid FROM picked))),
    freed AS (
      DELETE FROM ${n.serialRunning} s USING picked p
      WHERE p.serial_key IS NOT NULL AND s.serial_key = p.serial_key
        AND NOT ${holderRuns('s')}
      RETURNING s.serial_key
    ),
    serial AS (
      INSERT INTO ${n.serialRunning} (serial_key, id)
      SELECT serial_key, id FROM picked WHERE serial_key IS NOT NULL AND (SELECT count(*) FROM freed) >= 0
    ),
    waited AS (
      DELETE FROM ${n.jobKeys} k USING picked p
      WHERE p.serial_key IS NOT NULL AND k.kind = 's' AND k.key = p.serial_key AND k.id = p.id
    ),
    batch AS (
      INSERT INTO ${n.claims} (token, node, ids, pending)
      SELECT $7::uuid, $3, array_agg(id), count(*) FROM picked HAVING count(*) > 0
    ),
    claimed AS (
      UPDATE ${n.jobs} j
      SET state = 'running', attempt = j.attempt + 1, heartbeat_at = $2::timestamptz,
        started_at = CASE WHEN j.id = ANY(ARRAY(SELECT id FROM picked ORDER BY priority, run_at, id LIMIT $6)) THEN $2::timestamptz END,
        node = $3, fencing_token = ${n.nextFencingToken}, claim = $7::uuid
      WHERE j.id = ANY(ARRAY(SELECT id FROM picked)) AND j.state = 'available'
      RETURNING j.priority, j.run_at, j.id, ${claimedJson('j')}
    )${
      limited
        ? `, ${limitedTail(n)}
    SELECT (SELECT json_agg(job ORDER BY priority, run_at, id)::text FROM claimed) AS jobs,
      (SELECT json_agg(json_build_object('kind', kind, 'name', name, 'tokens', tokens)) FROM debit) AS buckets`
        : `
    SELECT json_agg(job ORDER BY priority, run_at, id)::text AS jobs FROM claimed`
    }`;
  };
  const all = text(false);
  const byIds = text(true);
  const after = text(false, true);
  const limited = text(false, false, true);

  return {
    /** `ids`, when given, are already checked to be bigint text; so is `request.after.id` (see the store). */
    claim: (request: ClaimRequest, ids: readonly string[] | null): ClaimStatement => {
      const token = randomUUID();
      const values = claimValues(request, token);
      if (ids !== null) return { name: n.statement('claim_ids'), text: byIds, values: [...values, ids], token };
      const key = request.after;
      if (key === undefined) return { name: n.statement('claim'), text: all, values, token };
      return { name: n.statement('claim_after'), text: after, values: [...values, key.priority, key.runAt, key.id], token };
    },
    /**
     * The claim of a queue whose only limits are shared buckets (global, the
     * queue's), with their lock, refill and debit in the same statement (see
     * `limitedHead`). It claims nothing, and answers fewer buckets than
     * given, when a bucket has no row yet: the caller then creates it.
     */
    claimLimited: (request: ClaimRequest, buckets: readonly BucketRef[]): ClaimStatement => {
      const token = randomUUID();
      return {
        name: n.statement('claim_limited'),
        text: limited,
        values: [
          ...claimValues(request, token),
          buckets.map((b) => b.kind),
          buckets.map((b) => b.name),
          buckets.map((b) => b.spec.capacity),
          buckets.map((b) => b.spec.refillPerSecond),
        ],
        token,
      };
    },
  };
}

/**
 * The buckets of a limited claim, locked in (kind, name) order (claims that
 * lock overlapping sets never deadlock) and refilled to the database's clock
 * from the version the lock returns: a claim that waited for another's lock
 * sees its debit. `budget` is what the claim may take: the whole tokens of
 * the emptiest bucket, none while a bucket has no row.
 */
function limitedHead(n: SqlNames): string {
  return `locked AS (
      SELECT b.kind, b.name, s.capacity, s.rate, ${refilled('s.capacity', 's.rate')} AS tokens, clock_timestamp() AS at
      FROM ${n.rateBuckets} b
      JOIN unnest($8::text[], $9::text[], $10::float8[], $11::float8[]) AS s(kind, name, capacity, rate) ON b.kind = s.kind AND b.name = s.name
      ORDER BY b.kind, b.name
      FOR UPDATE OF b
    ),
    budget AS (
      SELECT CASE WHEN count(*) = cardinality($8::text[]) THEN greatest(0, least($4::bigint, floor(min(tokens) + 1e-9)::bigint)) ELSE 0 END AS n
      FROM locked
    )`;
}

/** Debits the locked buckets by what was claimed (the row, not a second read: it is locked since `locked`). */
function limitedTail(n: SqlNames): string {
  return `debit AS (
      UPDATE ${n.rateBuckets} b
      SET tokens = l.tokens - (SELECT count(*) FROM claimed), capacity = l.capacity, refill_per_second = l.rate,
        updated_at = greatest(b.updated_at, l.at)
      FROM locked l WHERE b.kind = l.kind AND b.name = l.name
      RETURNING b.kind, b.name, b.tokens
    )`;
}
