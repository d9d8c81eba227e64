import type { SqlNames } from './names.js';

/**
 * The unique key statements' shared parts (migration 7). A key row holds its
 * job's id and what a conflict over the key is judged by; an insert that
 * finds the key taken takes it over, in the same statement, when the holder
 * no longer blocks it ({@link uniqueKeySql}'s `released`).
 * @internal
 */
export function uniqueKeySql(n: SqlNames) {
  // The holder's state as a bit of `states` at `at`: an available job not yet due is 'scheduled'.
  const bit = (h: string, at: string): string =>
    `(CASE ${h}.state WHEN 'available' THEN CASE WHEN ${h}.run_at > ${at} THEN 1 ELSE 2 END WHEN 'running' THEN 4 WHEN 'completed' THEN 8 ELSE 0 END)`;
  /**
   * Whether key row `k`'s holder no longer blocks an insert with mask
   * `states` and `period` (ms, or NULL) at `at`: its period passed, it
   * completed and the states leave completed out, or it is visibly in a
   * state they leave out. A holder the statement cannot see (taken by an
   * insert that committed after the statement began) never counts as
   * released: a key two inserts race to take over goes to one of them.
   */
  const released = (k: string, states: string, period: string, at: string): string => `(
      (${period} IS NOT NULL AND ${k}.since + ${period} * interval '1 millisecond' <= ${at})
      OR (${k}.completed AND ${states} & 8 = 0)
      OR (NOT ${k}.completed AND EXISTS (SELECT 1 FROM ${n.jobs} h WHERE h.id = ${k}.id AND ${bit('h', at)} & ${states} = 0)))`;
  return {
    released,
    /**
     * A data-modifying CTE that takes the keys `rows` selects (columns key,
     * id, states, period_ms, since; one row per key): a free key is inserted,
     * a taken one is taken over when its holder no longer blocks. The primary
     * key decides between concurrent inserts: the second waits for the first
     * to commit, then judges the key as the first left it. Returns the ids
     * that got their key.
     */
    take: (cte: string, rows: string): string => `${cte} AS (
      INSERT INTO ${n.uniqueKeys} AS k (key, id, states, period_ms, since)
      ${rows}
      ON CONFLICT (key) DO UPDATE
      SET id = EXCLUDED.id, states = EXCLUDED.states, period_ms = EXCLUDED.period_ms, since = EXCLUDED.since, completed = false
      WHERE ${released('k', 'EXCLUDED.states', 'EXCLUDED.period_ms', 'EXCLUDED.since')}
      RETURNING k.id
    )`,
  };
}
