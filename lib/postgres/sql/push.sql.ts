import { claimedJson } from './job-rows.js';
import type { SqlNames } from './names.js';
import type { Statement } from './statement.js';

/**
 * The offers of push to idle nodes (migrations 5 and 6), and the read of a
 * pushed batch. An offer names its node's LISTEN session (`listener`, a
 * backend pid) and lives on the database clock: a node that dies stops
 * receiving pushes when its session ends, or at the latest `ttl` after its
 * last refresh (a partition that leaves the session open), whatever the
 * nodes' clocks say.
 * @internal
 */
export function pushStatements(n: SqlNames) {
  const offer = `
    INSERT INTO ${n.offers} AS o (queue, node, slots, expires_at, listener)
    VALUES ($1, $2, $3, now() + $4::float8 * interval '1 millisecond', $5)
    ON CONFLICT (queue, node) DO UPDATE SET slots = EXCLUDED.slots, expires_at = EXCLUDED.expires_at, listener = EXCLUDED.listener`;
  const withdraw = `DELETE FROM ${n.offers} WHERE queue = $1 AND node = $2`;
  const refresh = `UPDATE ${n.offers} SET expires_at = now() + $2::float8 * interval '1 millisecond' WHERE node = $1`;
  const withdrawAll = `DELETE FROM ${n.offers} WHERE node = $1`;
  // The claim token and the node fence the read: a job cancelled, rescued or
  // claimed again since the push no longer runs under it.
  const take = `
    SELECT json_agg(job ORDER BY priority, run_at, id)::text AS jobs FROM (
      SELECT j.priority, j.run_at, j.id, ${claimedJson('j')} FROM ${n.jobs} j
      WHERE j.id = ANY($1::bigint[]) AND j.claim = $2::uuid AND j.node = $3 AND j.state = 'running'
    ) pushed`;
  return {
    offer: (queue: string, node: string, slots: number, ttl: number, listener: number): Statement =>
      slots > 0
        ? { name: n.statement('offer'), text: offer, values: [queue, node, slots, ttl, listener] }
        : { name: n.statement('withdraw'), text: withdraw, values: [queue, node] },
    refresh: (node: string, ttl: number): Statement => ({ name: n.statement('offers_refresh'), text: refresh, values: [node, ttl] }),
    withdrawAll: (node: string): Statement => ({ text: withdrawAll, values: [node] }),
    take: (ids: readonly string[], claim: string, node: string): Statement => ({ name: n.statement('take_pushed'), text: take, values: [ids, claim, node] }),
  };
}
