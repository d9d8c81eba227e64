import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * A job's `preemptible` as its enqueue call set it (`'suspend'`, `'requeue'`,
 * `'never'`; NULL: the handler's). Nullable, no default and in no index, so
 * adding it rewrites nothing. Nodes of the previous release insert NULL
 * (the handler's option, as they behaved): safe in a rolling upgrade.
 * @internal
 */
export const jobPreemptibleMigration: SchedulerMigration = {
  id: 12,
  name: 'job-preemptible',
  timestamp: 1799712000000,
  up: (n: SqlNames) => [`ALTER TABLE ${n.jobs} ADD COLUMN IF NOT EXISTS preemptible text`],
  down: (n: SqlNames) => [`ALTER TABLE ${n.jobs} DROP COLUMN IF EXISTS preemptible`],
};
