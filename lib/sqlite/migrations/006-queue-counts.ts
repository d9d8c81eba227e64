import type { SqliteMigration } from './sqlite-migration.js';

/** The final states whose jobs are counted in `queue_counts`. */
const FINISHED = `('completed', 'dead', 'discarded', 'cancelled')`;

/**
 * Finished jobs counted per queue and state in `queue_counts`, in place of
 * the (queue, state) index: that index changed twice a job (claim and
 * finish), each a delete and an insert in its b-tree, which was a fifth of
 * the store's statement time in a drain. Queued and running jobs are still
 * counted through the ready and running partial indexes, so queue counts no
 * longer read the history. The statements that finish, delete or resurrect
 * a job keep the counts; existing jobs are counted here. Lists and counts
 * of one queue walk a (queue, id) index, which only inserts and deletes change.
 *
 * Nodes of an earlier release must be stopped first: they would finish and
 * delete jobs without counting them.
 * @internal
 */
export const queueCountsMigration: SqliteMigration = {
  id: 6,
  name: 'queue-counts',
  up: [
    `CREATE TABLE queue_counts (queue TEXT NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (queue, state)) WITHOUT ROWID`,
    `INSERT INTO queue_counts (queue, state, n) SELECT queue, state, count(*) FROM jobs WHERE state IN ${FINISHED} GROUP BY queue, state`,
    'DROP INDEX jobs_queue_state_idx',
    // A queue's jobs for lists and counts filtered by queue, on columns fixed at insert: no claim or completion touches it.
    'CREATE INDEX jobs_queue_idx ON jobs (queue, id)',
  ],
};
