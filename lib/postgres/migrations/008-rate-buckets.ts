import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * One token bucket per kind (`global`, `queues`, `jobs`) and name, shared by
 * every node: a rate-limited claim locks the rows of its buckets, refills
 * them from the database's clock, and debits what it claimed in the same
 * transaction. `capacity` and `refill_per_second` are the shape the last
 * claim used (each claim brings its node's configuration).
 * @internal
 */
export const rateBucketsMigration: SchedulerMigration = {
  id: 8,
  name: 'rate-buckets',
  timestamp: 1799366400000,
  up: (n: SqlNames) => [
    `CREATE TABLE IF NOT EXISTS ${n.rateBuckets} (
      kind text NOT NULL,
      name text NOT NULL,
      tokens float8 NOT NULL,
      capacity float8 NOT NULL,
      refill_per_second float8 NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT ${n.local('rate_buckets_pkey')} PRIMARY KEY (kind, name)
    )`,
  ],
  down: (n: SqlNames) => [`DROP TABLE IF EXISTS ${n.rateBuckets}`],
};
