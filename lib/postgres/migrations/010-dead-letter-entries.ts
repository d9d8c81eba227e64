import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * Dead letters hold what their filters, counts and pruning read (queue,
 * name, the class of the last error, the death time), so none of those
 * reads the jobs, and the state of their `onDeadLetter` alert: due at
 * `alert_at` (NULL: handled), handed out `alert_tries` times.
 *
 * Existing rows are filled from their jobs in the same transaction, with no
 * alert (those jobs died before any handler could be told). Nodes of an
 * earlier release must be stopped first: their statements insert a dead
 * letter without its queue, which now fails loudly instead of hiding it.
 * @internal
 */
export const deadLetterEntriesMigration: SchedulerMigration = {
  id: 10,
  name: 'dead-letter-entries',
  timestamp: 1799539200000,
  up: (n: SqlNames) => [
    `ALTER TABLE ${n.deadLetters}
      ADD COLUMN IF NOT EXISTS queue text,
      ADD COLUMN IF NOT EXISTS name text,
      ADD COLUMN IF NOT EXISTS error_class text,
      ADD COLUMN IF NOT EXISTS died_at timestamptz,
      ADD COLUMN IF NOT EXISTS alert_at timestamptz,
      ADD COLUMN IF NOT EXISTS alert_tries int NOT NULL DEFAULT 0`,
    `UPDATE ${n.deadLetters} d
      SET queue = j.queue, name = j.name, error_class = j.errors -> -1 ->> 'errorClass', died_at = coalesce(j.finished_at, j.inserted_at)
      FROM ${n.jobs} j WHERE j.id = d.id`,
    // A row whose job is gone (a delete that raced its insert) would only be swept later: gone now.
    `DELETE FROM ${n.deadLetters} WHERE queue IS NULL`,
    `ALTER TABLE ${n.deadLetters} ALTER COLUMN queue SET NOT NULL, ALTER COLUMN name SET NOT NULL, ALTER COLUMN died_at SET NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${n.local('dead_letters_died_idx')} ON ${n.deadLetters} (died_at, id)`,
    `CREATE INDEX IF NOT EXISTS ${n.local('dead_letters_alert_idx')} ON ${n.deadLetters} (alert_at) WHERE alert_at IS NOT NULL`,
  ],
  down: (n: SqlNames) => [
    `DROP INDEX IF EXISTS ${n.qualified('dead_letters_alert_idx')}`,
    `DROP INDEX IF EXISTS ${n.qualified('dead_letters_died_idx')}`,
    `ALTER TABLE ${n.deadLetters}
      DROP COLUMN IF EXISTS queue, DROP COLUMN IF EXISTS name, DROP COLUMN IF EXISTS error_class,
      DROP COLUMN IF EXISTS died_at, DROP COLUMN IF EXISTS alert_at, DROP COLUMN IF EXISTS alert_tries`,
  ],
};
