import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * Unique keys move from `job_keys` (kind 'u', held by available and running
 * jobs only) to a table of their own that also keeps what a conflict is
 * judged by (see `unique-keys.sql.ts`): the holder's `states` (a mask: 1
 * scheduled, 2 available, 4 running, 8 completed), its `period_ms`, `since`
 * (its insert, by the inserting node's clock) and whether it `completed` and
 * kept the key. The key is the primary key, so the insert that takes it
 * (`ON CONFLICT (key) DO UPDATE … WHERE` the holder no longer blocks) is the
 * one guard against duplicates, on every node.
 *
 * Today's keys become keys of `unique: true`'s meaning (scheduled, available
 * or running, no period), dated by their job's insert. Nodes still on the
 * previous version keep writing `job_keys`: stop them before this step, or
 * a duplicate may slip in while both versions insert.
 * @internal
 */
export const uniqueKeysMigration: SchedulerMigration = {
  id: 7,
  name: 'unique-keys',
  timestamp: 1799280000000,
  up: (n: SqlNames) => [
    `CREATE TABLE IF NOT EXISTS ${n.uniqueKeys} (
      key text PRIMARY KEY,
      id bigint NOT NULL,
      states smallint NOT NULL,
      period_ms bigint,
      since timestamptz NOT NULL,
      completed boolean NOT NULL DEFAULT false
    )`,
    `INSERT INTO ${n.uniqueKeys} (key, id, states, period_ms, since)
      SELECT k.key, k.id, 7, NULL, j.inserted_at FROM ${n.jobKeys} k JOIN ${n.jobs} j ON j.id = k.id
      WHERE k.kind = 'u'
      ON CONFLICT DO NOTHING`,
    `DELETE FROM ${n.jobKeys} WHERE kind = 'u'`,
  ],
  // Back to kind 'u' rows: only keys of available and running jobs, the previous meaning.
  down: (n: SqlNames) => [
    `INSERT INTO ${n.jobKeys} (kind, key, id)
      SELECT 'u', u.key, u.id FROM ${n.uniqueKeys} u JOIN ${n.jobs} j ON j.id = u.id
      WHERE j.state IN ('available', 'running')
      ON CONFLICT DO NOTHING`,
    `DROP TABLE IF EXISTS ${n.uniqueKeys}`,
  ],
};
