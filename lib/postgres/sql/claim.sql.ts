import { randomUUID } from 'node:crypto';
import type { ClaimRequest } from '../../store/job-store.js';
import { claimedJson } from './job-rows.js';
import type { SqlNames } from './names.js';
import type { Statement } from './statement.js';

/**
 * The claim, for one store's tables: two named prepared statements (all
 * runnable jobs of a queue, or only given ids), since a prepared statement has
 * one text.
 *
 * Locking: the inner SELECT takes row locks with FOR UPDATE SKIP LOCKED, so
 * concurrent claimers (other runners, other nodes) never wait on each other
 * and never get the same row: each skips what another has just locked and
 * takes the next ones. Serial keys need more than row locks. Within one
 * claim, a job waits when an earlier candidate of the same claim shares its
 * key (the NOT EXISTS on `o` below, mirroring the memory store's scan); across
 * claims from different queues at the same instant, the unique index on
 * running serial keys refuses the second one (the store then claims again;
 * with two queues claiming at once, 7 of 10 rounds raced in our test).
 *
 * The UPDATE finds the picked rows by their ctid (`= ANY(ARRAY(…))`, a TID
 * scan): the rows are locked by this very statement, so no other can move
 * them in between, and their versions are the ones this snapshot sees. By
 * primary key it cost a probe of the index and a bitmap heap scan, ~4 µs of
 * PostgreSQL CPU per claimed job of ~30 (measured here, 250-job claims from
 * 20k). Joined as `FROM picked`, the planner hashed the picked rows and
 * scanned the whole table, history included: 4.6 of the 11.7 ms of a 500-job
 * claim beside 20k rows, growing with every finished job kept. Should a
 * picked row have been updated by a transaction that committed after this
 * snapshot (it was re-checked and locked at its newest version), its ctid
 * matches no visible row: it is left out of this claim, unchanged, and the
 * next claim takes it.
 *
 * Paused names: whether anything is paused is asked once per claim (an
 * InitPlan), so the per-row probe of the states table (two index probes per
 * candidate) runs only while something is paused. The same test as an array
 * (`name <> ALL(ARRAY(…))`) misled the planner into a cost estimate of 1.1M,
 * over `jit_above_cost`: each claim was JIT-compiled, 0.5 s for 1 ms of work.
 *
 * Only the first `start` jobs (the runner's free slots) get a start time;
 * the rest are claimed ahead into its buffer and get theirs from a heartbeat
 * or their acknowledgement, so a rescue can tell jobs a dead node never
 * started (their attempt is given back) from those it interrupted.
 *
 * With a cursor (`ClaimRequest.after`, the key of the runner's previous
 * claim's last job) the scan starts past it: a row comparison on the index's
 * own order, so the index range begins there and the entries of jobs
 * claimed before (which a session holding an old snapshot keeps from being
 * cleaned up) are never walked again. The serial-key check on `o` still
 * looks at every waiting job, cursor or not: one of the same key behind the
 * cursor comes first.
 *
 * The answer is ONE row: every claimed job, in claim order, in one JSON
 * text. A row per job cost pg a message parse, a row object and a
 * JSON.parse each: 5 % of a drain's Node CPU, the largest single item.
 *
 * Measured on PostgreSQL 15 (local): claiming 50 from a backlog of 21k
 * available jobs beside 50k finished ones takes 1.5 ms and reads only the
 * partial runnable index; 4 runners claiming 50 at a time and completing in
 * batches move ~14k jobs/s at ~25 µs of Node CPU per job.
 * @internal
 */
export function claimStatements(n: SqlNames) {
  const text = (byIds: boolean, after = false): string => {
    const only = (alias: string): string => (byIds ? `AND ${alias}.id = ANY($8::bigint[])` : '');
    const past = after ? `AND (r.priority, r.run_at, r.id) > ($8::smallint, 'epoch'::timestamptz + $9::float8 * interval '1 millisecond', $10::bigint)` : '';
    const claimable = (alias: string): string => `${alias}.queue = $1
        AND ${alias}.run_at <= $2::timestamptz AND ${alias}.priority <= $5
        AND (${alias}.pinned_node IS NULL OR ${alias}.pinned_node = $3)
        ${only(alias)}
        AND (NOT EXISTS (SELECT 1 FROM ${n.scheduleStates} WHERE paused) -- once per claim: mostly nothing is paused
          OR NOT EXISTS (SELECT 1 FROM ${n.scheduleStates} p WHERE p.paused AND (p.name = ${alias}.name OR p.name = ${alias}.schedule)))`;
    return `
    WITH picked AS (
      SELECT r.ctid AS rid, r.priority, r.run_at, r.id, r.serial_key FROM ${n.ready} r
      WHERE ${claimable('r')} ${past}
        AND (r.serial_key IS NULL OR (
          NOT EXISTS (SELECT 1 FROM ${n.serialRunning} s WHERE s.serial_key = r.serial_key)
          AND NOT EXISTS (
            SELECT 1 FROM ${n.ready} o
            WHERE o.serial_key = r.serial_key AND o.id <> r.id AND ${claimable('o')}
              AND (o.priority, o.run_at, o.id) < (r.priority, r.run_at, r.id))))
      ORDER BY r.priority, r.run_at, r.id
      LIMIT $4
      FOR UPDATE OF r SKIP LOCKED
    ),
    gone AS (DELETE FROM ${n.ready} r WHERE r.ctid = ANY(ARRAY(SELECT rid FROM picked))),
    serial AS (INSERT INTO ${n.serialRunning} (serial_key, id) SELECT serial_key, id FROM picked WHERE serial_key IS NOT NULL),
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
    )
    SELECT json_agg(job ORDER BY priority, run_at, id)::text AS jobs FROM claimed`;
  };
  const all = text(false);
  const byIds = text(true);
  const after = text(false, true);

  return {
    /** `ids`, when given, are already checked to be bigint text; so is `request.after.id` (see the store). */
    claim: (request: ClaimRequest, ids: readonly string[] | null): Statement => {
      const values = [
        request.queue,
        request.now,
        request.node,
        request.limit,
        request.maxPriority ?? 9,
        Math.min(request.start ?? request.limit, request.limit),
        randomUUID(),
      ];
      if (ids !== null) return { name: n.statement('claim_ids'), text: byIds, values: [...values, ids] };
      const key = request.after;
      if (key === undefined) return { name: n.statement('claim'), text: all, values };
      return { name: n.statement('claim_after'), text: after, values: [...values, key.priority, key.runAt, key.id] };
    },
  };
}
