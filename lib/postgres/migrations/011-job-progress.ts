import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * A job's last reported progress (`ctx.progress`). Nullable and in no index,
 * so adding it rewrites nothing and each write is a HOT update of the row.
 * Nodes of the previous release never read or write it: safe in a rolling
 * upgrade.
 * @internal
 */
export const jobProgressMigration: SchedulerMigration = {
  id: 11,
  name: 'job-progress',
  timestamp: 1799625600000,
  up: (n: SqlNames) => [`ALTER TABLE ${n.jobs} ADD COLUMN IF NOT EXISTS progress jsonb`],
  down: (n: SqlNames) => [`ALTER TABLE ${n.jobs} DROP COLUMN IF EXISTS progress`],
};
