import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * A version on each circuit breaker, raised by every statement that changes
 * it: a node keeps the higher of two copies of a breaker (a re-read sent
 * before its own change and answered after it would otherwise undo that
 * change on the node). Existing rows start at 0.
 * @internal
 */
export const breakerVersionsMigration: SchedulerMigration = {
  id: 16,
  name: 'breaker-versions',
  timestamp: 1800057600000,
  up: (n: SqlNames) => [`ALTER TABLE ${n.breakers} ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0`],
  down: (n: SqlNames) => [`ALTER TABLE ${n.breakers} DROP COLUMN IF EXISTS version`],
};
