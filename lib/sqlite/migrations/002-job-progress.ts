import type { SqliteMigration } from './sqlite-migration.js';

/**
 * A job's last reported progress (`ctx.progress`), JSON text; in no index.
 * @internal
 */
export const jobProgressMigration: SqliteMigration = {
  id: 2,
  name: 'job-progress',
  up: ['ALTER TABLE jobs ADD COLUMN progress TEXT'],
};
