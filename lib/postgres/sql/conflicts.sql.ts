import { jobColumns } from './job-rows.js';
import type { SqlNames } from './names.js';
import type { Statement } from './statement.js';

/**
 * Which earlier job an input collided with ({@link insertStatements}' `conflicts`).
 * @internal
 */
export interface ConflictProbe {
  ord: number;
  tick_key: string | null;
  unique_key: string | null;
  serial_key: string | null;
}

/**
 * What an insert does with inputs it skipped: which job each collided with,
 * and the keys no active job holds any more.
 * @internal
 */
export function conflictStatements(n: SqlNames) {
  // The job each skipped input collided with: tick key first, then unique,
  // then serial (the memory store's order). A separate statement, because the
  // insert's own snapshot cannot see rows it inserted or that a concurrent
  // insert committed while it ran.
  const conflicts = `
    SELECT k.ord, c.conflict, ${jobColumns('c')}
    FROM jsonb_to_recordset($1::jsonb) AS k(ord int, tick_key text, unique_key text, serial_key text)
    CROSS JOIN LATERAL (
      (SELECT 1 AS rank, 'tick' AS conflict, ${jobColumns('j')} FROM ${n.jobs} j WHERE j.tick_key = k.tick_key)
      UNION ALL
      (SELECT 2, 'unique', ${jobColumns('j')} FROM ${n.jobKeys} u JOIN ${n.jobs} j ON j.id = u.id
        WHERE u.kind = 'u' AND u.key = k.unique_key AND j.state IN ('available', 'running'))
      UNION ALL
      (SELECT 3, 'serial', ${jobColumns('j')} FROM ${n.ready} r JOIN ${n.jobs} j ON j.id = r.id
        WHERE r.serial_key = k.serial_key AND j.state = 'available'
        ORDER BY (j.attempt = 0 AND j.errors = '[]'::jsonb) DESC, j.id LIMIT 1)
      ORDER BY rank
      LIMIT 1
    ) c`;
  // Keys whose job is gone, finished, or (a serial key) no longer waiting
  // since its insert: a job that took a key and then collided on its tick
  // key, or a key whose release was missed. Dropped so the next round can
  // take them. A key taken by an insert still in progress is invisible here
  // and left alone; one that collided with ours had committed before our
  // insert returned.
  const staleKeys = `
    DELETE FROM ${n.jobKeys} k
    USING jsonb_to_recordset($1::jsonb) AS p(ord int, tick_key text, unique_key text, serial_key text)
    WHERE ((k.kind = 'u' AND k.key = p.unique_key) OR (k.kind = 's' AND k.key = p.serial_key))
      AND NOT EXISTS (
        SELECT 1 FROM ${n.jobs} j WHERE j.id = k.id
          AND CASE WHEN k.kind = 'u' THEN j.state IN ('available', 'running') ELSE j.state = 'available' AND j.attempt = 0 END)`;

  return {
    conflicts: (probes: readonly ConflictProbe[]): Statement => ({ text: conflicts, values: [JSON.stringify(probes)] }),
    /** Drops keys of these probes that no active job holds (see the statement). */
    staleKeys: (probes: readonly ConflictProbe[]): Statement => ({ text: staleKeys, values: [JSON.stringify(probes)] }),
  };
}
