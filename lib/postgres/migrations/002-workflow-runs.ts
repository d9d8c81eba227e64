import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * The workflow runs table: one row per run, its context and the state of
 * every step in jsonb (a run is read and written whole, under a row lock).
 *
 * Names stay within 23 bytes after the prefix (hence the named CHECK), so the
 * longest table prefix allowed is what it was before this migration.
 * @internal
 */
export const workflowRunsMigration: SchedulerMigration = {
  id: 2,
  name: 'workflow-runs',
  timestamp: 1780272000000,
  up: (n: SqlNames) => [
    `CREATE TABLE IF NOT EXISTS ${n.workflowRuns} (
      id bigserial PRIMARY KEY,
      workflow text NOT NULL,
      version text NOT NULL,
      state text NOT NULL CONSTRAINT ${n.local('workflow_runs_state_chk')}
        CHECK (state IN ('scheduled', 'running', 'paused', 'completed', 'failed', 'cancelled')),
      context jsonb NOT NULL DEFAULT '{}',
      steps jsonb NOT NULL DEFAULT '{}',
      seq int NOT NULL DEFAULT 0,
      error text,
      trace jsonb,
      run_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      finished_at timestamptz
    )`,
    // Listing one workflow's runs, newest first.
    `CREATE INDEX IF NOT EXISTS ${n.local('workflow_runs_name_idx')} ON ${n.workflowRuns} (workflow, id)`,
    // Listing runs by state (running, scheduled…), newest first.
    `CREATE INDEX IF NOT EXISTS ${n.local('workflow_runs_state_idx')} ON ${n.workflowRuns} (state, id)`,
    // Pruning finished runs, oldest first; unfinished ones stay out of it.
    `CREATE INDEX IF NOT EXISTS ${n.local('workflow_runs_done_idx')} ON ${n.workflowRuns} (finished_at) WHERE finished_at IS NOT NULL`,
  ],
  down: (n: SqlNames) => [`DROP TABLE IF EXISTS ${n.workflowRuns}`],
};
