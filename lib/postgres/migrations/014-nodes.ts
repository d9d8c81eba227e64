import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * The node registry (`JobStore.nodes`): one row per live node, renewed by
 * its beats, read by the dashboard. Nothing in the job's path reads it, so a
 * node of the previous release (which never beats) only goes unlisted.
 * @internal
 */
export const nodesMigration: SchedulerMigration = {
  id: 14,
  name: 'nodes',
  timestamp: 1799884800000,
  up: (n: SqlNames) => [
    `CREATE TABLE IF NOT EXISTS ${n.nodes} (
      node text PRIMARY KEY,
      version text,
      queues jsonb NOT NULL DEFAULT '{}'::jsonb,
      started_at timestamptz NOT NULL,
      heartbeat_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    )`,
  ],
  down: (n: SqlNames) => [`DROP TABLE IF EXISTS ${n.nodes}`],
};
