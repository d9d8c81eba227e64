import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * The attempts a dead-letter retry grants a job, set at its first retry
 * (what it had then) so that later retries grant as many, not its last,
 * grown budget. Nullable, no default and in no index, so adding it
 * rewrites nothing; a node of the previous release leaves it NULL and
 * grants by its own rule, as it did.
 * @internal
 */
export const jobRetryBudgetMigration: SchedulerMigration = {
  id: 13,
  name: 'job-retry-budget',
  timestamp: 1799798400000,
  up: (n: SqlNames) => [`ALTER TABLE ${n.jobs} ADD COLUMN IF NOT EXISTS retry_budget integer`],
  down: (n: SqlNames) => [`ALTER TABLE ${n.jobs} DROP COLUMN IF EXISTS retry_budget`],
};
