import { initialMigration } from './001-initial.js';
import { jobProgressMigration } from './002-job-progress.js';
import { jobPreemptibleMigration } from './003-job-preemptible.js';
import { jobRetryBudgetMigration } from './004-job-retry-budget.js';
import { nodeBeatsMigration } from './005-node-beats.js';
import { queueCountsMigration } from './006-queue-counts.js';
import type { SqliteMigration } from './sqlite-migration.js';

export type { SqliteMigration } from './sqlite-migration.js';

/**
 * Every shipped SQLite migration, in order. Append new ones; never edit a released one.
 * @internal
 */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  initialMigration,
  jobProgressMigration,
  jobPreemptibleMigration,
  jobRetryBudgetMigration,
  nodeBeatsMigration,
  queueCountsMigration,
];
