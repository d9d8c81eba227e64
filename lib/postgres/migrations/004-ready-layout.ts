import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * The v2 layout: the job row is written in place (HOT) from claim to finish.
 *
 * PostgreSQL can update a row without touching its indexes only when no
 * column it changes is named by any index, key or predicate. So `jobs` keeps
 * indexes on columns fixed at insert (id, name, schedule, tick key), and what
 * changes with the job's state lives in small side tables whose rows are only
 * inserted and deleted:
 *
 * - `ready`: one row per available job, keyed in claim order (queue,
 *   priority, run_at, id). A claim deletes its rows; every way back to
 *   available inserts one. Its serial-key indexes replace the partial ones
 *   on `jobs`.
 * - `claims`: one row per claimed batch (a client-generated token, the node,
 *   the job ids, how many are still running). The rescue walks these instead
 *   of an index of running jobs; the job row names its batch in `claim`.
 * - `job_keys`: the unique key of each active job, and the serial key of
 *   each job waiting since its insert; `serial_running`: the serial key of
 *   each running job.
 * - `queue_counts`: finished jobs per queue and state, and `dead_letters`:
 *   the ids of dead jobs, so queue statistics and dead letters never read
 *   the history.
 *
 * Measured on PostgreSQL 15 (see POSTGRES-V2.md, design A1): 8.5–10.4 µs of
 * PostgreSQL CPU per job with history kept, against 20.7–22.5 for the
 * migration-3 layout; fillfactor 45 is what makes a batched completion 100 %
 * HOT (70 gave 39 %). It applies to pages written from now on.
 *
 * The rows of existing jobs are moved in the same transaction. Nodes of an
 * earlier release must be stopped first: `state` loses its default and a
 * running job must name its claim, so their inserts and claims fail loudly
 * instead of writing rows the new layout would never see.
 * @internal
 */
export const readyLayoutMigration: SchedulerMigration = {
  id: 4,
  name: 'ready-layout',
  timestamp: 1799020800000,
  up: (n: SqlNames) => [
    `ALTER TABLE ${n.jobs} ADD COLUMN IF NOT EXISTS claim uuid`,
    `CREATE TABLE IF NOT EXISTS ${n.ready} (
      queue text NOT NULL,
      priority smallint NOT NULL,
      run_at timestamptz NOT NULL,
      id bigint NOT NULL,
      name text NOT NULL,
      schedule text,
      pinned_node text,
      serial_key text,
      PRIMARY KEY (queue, priority, run_at, id)
    ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_threshold = 1000)`,
    `CREATE INDEX IF NOT EXISTS ${n.local('ready_serial_idx')} ON ${n.ready} (serial_key) WHERE serial_key IS NOT NULL`,
    `CREATE TABLE IF NOT EXISTS ${n.claims} (
      token uuid PRIMARY KEY,
      node text NOT NULL,
      ids bigint[] NOT NULL,
      pending int NOT NULL
    ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000)`,
    // Kind 'u': the unique key of an available or running job. Kind 's': the
    // serial key of a job waiting since its insert (at most one per key from
    // inserts, the memory store's rule); the claim deletes it.
    `CREATE TABLE IF NOT EXISTS ${n.jobKeys} (kind "char" NOT NULL, key text NOT NULL, id bigint NOT NULL, PRIMARY KEY (kind, key))`,
    `CREATE TABLE IF NOT EXISTS ${n.serialRunning} (serial_key text PRIMARY KEY, id bigint NOT NULL)`,
    // Finished jobs per queue and state, kept by the statements that finish,
    // prune, delete or resurrect jobs. Spread over 16 slots (by server
    // process) so acknowledgements from many connections rarely wait on one
    // row; a count is the sum of its slots.
    `CREATE TABLE IF NOT EXISTS ${n.queueCounts} (
      queue text NOT NULL,
      state text NOT NULL,
      slot smallint NOT NULL,
      n bigint NOT NULL,
      PRIMARY KEY (queue, state, slot)
    )`,
    // Dead jobs, so dead letters are listed without reading the history.
    `CREATE TABLE IF NOT EXISTS ${n.deadLetters} (id bigint PRIMARY KEY)`,
    `INSERT INTO ${n.deadLetters} (id) SELECT id FROM ${n.jobs} WHERE state = 'dead' ON CONFLICT DO NOTHING`,
    `INSERT INTO ${n.queueCounts} (queue, state, slot, n)
      SELECT queue, state, 0, count(*) FROM ${n.jobs} WHERE state IN ('completed', 'dead', 'discarded', 'cancelled') GROUP BY queue, state
      ON CONFLICT DO NOTHING`,
    `INSERT INTO ${n.ready} (queue, priority, run_at, id, name, schedule, pinned_node, serial_key)
      SELECT queue, priority, run_at, id, name, schedule, pinned_node, serial_key
      FROM ${n.jobs} WHERE state = 'available'
      ON CONFLICT DO NOTHING`,
    // Each node's running jobs become one claim of that node.
    `INSERT INTO ${n.claims} (token, node, ids, pending)
      SELECT gen_random_uuid(), coalesce(node, ''), array_agg(id ORDER BY id), count(*) FROM ${n.jobs} WHERE state = 'running' GROUP BY node`,
    `UPDATE ${n.jobs} j SET claim = c.token FROM ${n.claims} c WHERE j.state = 'running' AND j.id = ANY(c.ids)`,
    `INSERT INTO ${n.jobKeys} (kind, key, id)
      SELECT 'u', unique_key, id FROM ${n.jobs} WHERE unique_key IS NOT NULL AND state IN ('available', 'running')
      UNION ALL
      SELECT 's', serial_key, id FROM ${n.jobs} WHERE serial_key IS NOT NULL AND state = 'available' AND attempt = 0 AND errors = '[]'::jsonb
      ON CONFLICT DO NOTHING`,
    `INSERT INTO ${n.serialRunning} (serial_key, id)
      SELECT serial_key, id FROM ${n.jobs} WHERE serial_key IS NOT NULL AND state = 'running'
      ON CONFLICT DO NOTHING`,
    ...[
      'jobs_runnable_idx',
      'jobs_unique_key_idx',
      'jobs_serial_key_idx',
      'jobs_serial_waiting_idx',
      'jobs_serial_running_idx',
      'jobs_running_idx',
      'jobs_finished_idx',
      'jobs_finished_name_idx',
      'jobs_finished_schedule_idx',
    ].map((index) => `DROP INDEX IF EXISTS ${n.qualified(index)}`),
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_name_idx')} ON ${n.jobs} (name, id)`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_schedule_idx')} ON ${n.jobs} (schedule, id) WHERE schedule IS NOT NULL`,
    `ALTER TABLE ${n.jobs} ALTER COLUMN state DROP DEFAULT`,
    `ALTER TABLE ${n.jobs} ADD CONSTRAINT ${n.local('jobs_claim_chk')} CHECK (state <> 'running' OR claim IS NOT NULL)`,
    `ALTER TABLE ${n.jobs} SET (fillfactor = 45)`,
  ],
  down: (n: SqlNames) => [
    `ALTER TABLE ${n.jobs} SET (fillfactor = 70)`,
    `ALTER TABLE ${n.jobs} DROP CONSTRAINT IF EXISTS ${n.local('jobs_claim_chk')}`,
    `ALTER TABLE ${n.jobs} ALTER COLUMN state SET DEFAULT 'available'`,
    `DROP INDEX IF EXISTS ${n.qualified('jobs_name_idx')}`,
    `DROP INDEX IF EXISTS ${n.qualified('jobs_schedule_idx')}`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_runnable_idx')} ON ${n.jobs} (queue, priority, run_at, id) WHERE state = 'available'`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${n.local('jobs_unique_key_idx')} ON ${n.jobs} (unique_key)
      WHERE unique_key IS NOT NULL AND state IN ('available', 'running')`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${n.local('jobs_serial_key_idx')} ON ${n.jobs} (serial_key)
      WHERE serial_key IS NOT NULL AND state = 'available' AND attempt = 0 AND errors = '[]'::jsonb`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_serial_waiting_idx')} ON ${n.jobs} (serial_key)
      WHERE serial_key IS NOT NULL AND state = 'available'`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${n.local('jobs_serial_running_idx')} ON ${n.jobs} (serial_key)
      WHERE serial_key IS NOT NULL AND state = 'running'`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_running_idx')} ON ${n.jobs} (heartbeat_at) WHERE state = 'running'`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_finished_idx')} ON ${n.jobs} (finished_at) WHERE finished_at IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_finished_name_idx')} ON ${n.jobs} (name, id) WHERE finished_at IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_finished_schedule_idx')} ON ${n.jobs} (schedule, id)
      WHERE finished_at IS NOT NULL AND schedule IS NOT NULL`,
    `DROP TABLE IF EXISTS ${n.deadLetters}`,
    `DROP TABLE IF EXISTS ${n.queueCounts}`,
    `DROP TABLE IF EXISTS ${n.serialRunning}`,
    `DROP TABLE IF EXISTS ${n.jobKeys}`,
    `DROP TABLE IF EXISTS ${n.claims}`,
    `DROP TABLE IF EXISTS ${n.ready}`,
    `ALTER TABLE ${n.jobs} DROP COLUMN IF EXISTS claim`,
  ],
};
