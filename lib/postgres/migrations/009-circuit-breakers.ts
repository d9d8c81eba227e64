import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * Circuit breakers shared by every node: one row per named breaker, its
 * settings beside its state, so that each change is one statement that
 * locks the row and applies the state machine (lib/breakers/breaker.machine.ts).
 * @internal
 */
export const circuitBreakersMigration: SchedulerMigration = {
  id: 9,
  name: 'circuit-breakers',
  timestamp: 1799452800000,
  up: (n: SqlNames) => [
    `CREATE TABLE IF NOT EXISTS ${n.breakers} (
      name text PRIMARY KEY,
      state text NOT NULL DEFAULT 'closed',
      failures int NOT NULL DEFAULT 0,
      successes int NOT NULL DEFAULT 0,
      probes int NOT NULL DEFAULT 0,
      opened_at timestamptz,
      next_probe_at timestamptz,
      failure_threshold int NOT NULL,
      success_threshold int NOT NULL,
      reset_timeout_ms bigint NOT NULL,
      CONSTRAINT ${n.local('breakers_state_chk')} CHECK (state IN ('closed', 'open', 'halfOpen'))
    )`,
  ],
  down: (n: SqlNames) => [`DROP TABLE IF EXISTS ${n.breakers}`],
};
