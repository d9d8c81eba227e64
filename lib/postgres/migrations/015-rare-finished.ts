import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * Cancelled and discarded jobs, one row each (`rare_finished`), so a list or
 * count of those states reads this small table instead of the whole history:
 * no index of `jobs` may name the state (migration 4), and 5k cancelled jobs
 * among 1M finished took 0.32 s to list (bench/dashboard.mjs). Rows are only
 * inserted and deleted, by the statements that keep the queue counts.
 *
 * Existing rows are filled from their jobs in the same transaction. Nodes of
 * an earlier release must be stopped first: their cancels and discards would
 * not add a row, and such a job would be missing from those lists.
 * @internal
 */
export const rareFinishedMigration: SchedulerMigration = {
  id: 15,
  name: 'rare-finished',
  timestamp: 1799971200000,
  up: (n: SqlNames) => [
    `CREATE TABLE IF NOT EXISTS ${n.rareFinished} (
      id bigint PRIMARY KEY,
      queue text NOT NULL,
      state text NOT NULL
    ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_threshold = 1000)`,
    `INSERT INTO ${n.rareFinished} (id, queue, state)
      SELECT id, queue, state FROM ${n.jobs} WHERE state IN ('cancelled', 'discarded')
      ON CONFLICT (id) DO UPDATE SET queue = EXCLUDED.queue, state = EXCLUDED.state`,
  ],
  down: (n: SqlNames) => [`DROP TABLE IF EXISTS ${n.rareFinished}`],
};
