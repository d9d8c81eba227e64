import type { SqliteMigration } from './sqlite-migration.js';

/**
 * The attempts a dead-letter retry grants a job, set at its first retry
 * (what it had then) so that later ones grant as many; in no index.
 * @internal
 */
export const jobRetryBudgetMigration: SqliteMigration = {
  id: 4,
  name: 'job-retry-budget',
  up: ['ALTER TABLE jobs ADD COLUMN retry_budget INTEGER'],
};
