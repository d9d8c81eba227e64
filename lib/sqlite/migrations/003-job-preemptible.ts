import type { SqliteMigration } from './sqlite-migration.js';

/**
 * A job's `preemptible` as its enqueue call set it (`suspend`, `requeue`,
 * `never`; NULL: the handler's); in no index.
 * @internal
 */
export const jobPreemptibleMigration: SqliteMigration = {
  id: 3,
  name: 'job-preemptible',
  up: ['ALTER TABLE jobs ADD COLUMN preemptible TEXT'],
};
