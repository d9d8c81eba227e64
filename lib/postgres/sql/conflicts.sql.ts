import { jobColumns } from './job-rows.js';
import type { SqlNames } from './names.js';
import type { Statement } from './statement.js';
import { uniqueKeySql } from './unique-keys.sql.js';

/**
 * Which earlier job an input collided with ({@link insertStatements}' `conflicts`).
 * @internal
 */
export interface ConflictProbe {
  ord: number;
  tick_key: string | null;
  unique_key: string | null;
  /** The input's unique states mask, period (ms) and time (ISO), as the insert judged its key by. */
  unique_states: number | null;
  unique_period: number | null;
  unique_since: string | null;
  serial_key: string | null;
}

const PROBE = `ord int, tick_key text, unique_key text, unique_states smallint, unique_period bigint, unique_since timestamptz, serial_key text`;

/**
 * What an insert does with inputs it skipped: which job each collided with,
 * and the keys no active job holds any more.
 * @internal
 */
export function conflictStatements(n: SqlNames) {
  const { released } = uniqueKeySql(n);
  const at = 'coalesce(k.unique_since, now())';
  // The job each skipped input collided with: tick key first, then unique,
  // then serial (the memory store's order). A separate statement, because the
  // insert's own snapshot cannot see rows it inserted or that a concurrent
  // insert committed while it ran.
  const conflicts = `
    SELECT k.ord, c.conflict, ${jobColumns('c')}
    FROM jsonb_to_recordset($1::jsonb) AS k(${PROBE})
    CROSS JOIN LATERAL (
      (SELECT 1 AS rank, 'tick' AS conflict, ${jobColumns('j')} FROM ${n.jobs} j WHERE j.tick_key = k.tick_key)
      UNION ALL
      (SELECT 2, 'unique', ${jobColumns('j')} FROM ${n.uniqueKeys} u JOIN ${n.jobs} j ON j.id = u.id
        WHERE u.key = k.unique_key AND NOT ${released('u', 'coalesce(k.unique_states, 7)', 'k.unique_period', at)})
      UNION ALL
      (SELECT 3, 'serial', ${jobColumns('j')} FROM ${n.ready} r JOIN ${n.jobs} j ON j.id = r.id
        WHERE r.serial_key = k.serial_key AND j.state = 'available'
        ORDER BY (j.attempt = 0 AND j.errors = '[]'::jsonb) DESC, j.id LIMIT 1)
      ORDER BY rank
      LIMIT 1
    ) c`;
  // Keys whose job is gone, or (a serial key) no longer waiting since its
  // insert: a job that took a key and then collided on its tick key, or a key
  // whose release was missed. Dropped so the next round can take them (a
  // unique key whose holder is there but no longer blocks is taken over by
  // the next round's insert itself). A key taken by an insert still in
  // progress is invisible here and left alone; one that collided with ours
  // had committed before our insert returned.
  const staleKeys = `
    WITH probe AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS p(${PROBE})),
    unique_gone AS (
      DELETE FROM ${n.uniqueKeys} k USING probe p
      WHERE k.key = p.unique_key AND NOT EXISTS (SELECT 1 FROM ${n.jobs} j WHERE j.id = k.id)
    )
    DELETE FROM ${n.jobKeys} k USING probe p
    WHERE k.kind = 's' AND k.key = p.serial_key
      AND NOT EXISTS (SELECT 1 FROM ${n.jobs} j WHERE j.id = k.id AND j.state = 'available' AND j.attempt = 0)`;

  return {
    conflicts: (probes: readonly ConflictProbe[]): Statement => ({ text: conflicts, values: [JSON.stringify(probes)] }),
    /** Drops keys of these probes that no active job holds (see the statement). */
    staleKeys: (probes: readonly ConflictProbe[]): Statement => ({ text: staleKeys, values: [JSON.stringify(probes)] }),
  };
}
