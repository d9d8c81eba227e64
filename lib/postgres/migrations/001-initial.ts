import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * The jobs table and its partial indexes, the fencing-token sequence, and the
 * small tables for stored schedules, schedule and queue states and the
 * leader lease.
 *
 * Indexes are partial so each stays as small as the rows it serves: the
 * runnable index holds only `available` jobs (finished history never slows a
 * claim), the running index only `running` ones (the lifeline sweep).
 * @internal
 */
export const initialMigration: SchedulerMigration = {
  id: 1,
  name: 'initial',
  timestamp: 1767225600000,
  up: (n: SqlNames) => [
    `CREATE TABLE IF NOT EXISTS ${n.jobs} (
      id bigserial PRIMARY KEY,
      name text NOT NULL,
      schedule text,
      queue text NOT NULL,
      args jsonb NOT NULL,
      state text NOT NULL DEFAULT 'available'
        CHECK (state IN ('available', 'running', 'completed', 'dead', 'discarded', 'cancelled')),
      priority smallint NOT NULL,
      attempt int NOT NULL DEFAULT 0,
      max_attempts int NOT NULL,
      timeout_ms int,
      run_at timestamptz NOT NULL,
      scheduled_at timestamptz NOT NULL,
      inserted_at timestamptz NOT NULL DEFAULT now(),
      misfired boolean NOT NULL DEFAULT false,
      started_at timestamptz,
      finished_at timestamptz,
      heartbeat_at timestamptz,
      node text,
      fencing_token bigint NOT NULL DEFAULT 0,
      tick_key text,
      unique_key text,
      serial_key text,
      pinned_node text,
      tags text[] NOT NULL DEFAULT '{}',
      meta jsonb NOT NULL DEFAULT '{}',
      result jsonb,
      errors jsonb NOT NULL DEFAULT '[]',
      trace jsonb
    )`,
    `CREATE SEQUENCE IF NOT EXISTS ${n.fencingSeq}`,
    // Claims walk this in (priority, run_at, id) order for one queue.
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_runnable_idx')} ON ${n.jobs} (queue, priority, run_at, id) WHERE state = 'available'`,
    // One job per (schedule, tick), for as long as the job exists.
    `CREATE UNIQUE INDEX IF NOT EXISTS ${n.local('jobs_tick_key_idx')} ON ${n.jobs} (tick_key) WHERE tick_key IS NOT NULL`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${n.local('jobs_unique_key_idx')} ON ${n.jobs} (unique_key)
      WHERE unique_key IS NOT NULL AND state IN ('available', 'running')`,
    // At most one waiting job per serial key *from inserts*: a job that comes
    // back to available (retry, release, rescue, resurrect) may wait beside
    // another, as in the memory store, so the index covers only jobs that never
    // left available (attempt 0, no error); inserts check the others with
    // NOT EXISTS on the waiting index below.
    `CREATE UNIQUE INDEX IF NOT EXISTS ${n.local('jobs_serial_key_idx')} ON ${n.jobs} (serial_key)
      WHERE serial_key IS NOT NULL AND state = 'available' AND attempt = 0 AND errors = '[]'::jsonb`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_serial_waiting_idx')} ON ${n.jobs} (serial_key)
      WHERE serial_key IS NOT NULL AND state = 'available'`,
    // Never two running jobs with one serial key, even when two nodes claim
    // from different queues at the same instant.
    `CREATE UNIQUE INDEX IF NOT EXISTS ${n.local('jobs_serial_running_idx')} ON ${n.jobs} (serial_key)
      WHERE serial_key IS NOT NULL AND state = 'running'`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_running_idx')} ON ${n.jobs} (heartbeat_at) WHERE state = 'running'`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_finished_idx')} ON ${n.jobs} (finished_at) WHERE finished_at IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_name_idx')} ON ${n.jobs} (name, id)`,
    `CREATE INDEX IF NOT EXISTS ${n.local('jobs_schedule_idx')} ON ${n.jobs} (schedule, id)`,
    `CREATE TABLE IF NOT EXISTS ${n.schedules} (name text PRIMARY KEY, definition jsonb NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${n.scheduleStates} (
      name text PRIMARY KEY,
      paused boolean NOT NULL DEFAULT false,
      planned_until timestamptz
    )`,
    `CREATE TABLE IF NOT EXISTS ${n.queueStates} (
      name text PRIMARY KEY,
      paused boolean NOT NULL DEFAULT false,
      concurrency int
    )`,
    `CREATE TABLE IF NOT EXISTS ${n.leases} (name text PRIMARY KEY, node text NOT NULL, expires_at timestamptz NOT NULL)`,
  ],
  down: (n: SqlNames) => [
    `DROP TABLE IF EXISTS ${n.leases}`,
    `DROP TABLE IF EXISTS ${n.queueStates}`,
    `DROP TABLE IF EXISTS ${n.scheduleStates}`,
    `DROP TABLE IF EXISTS ${n.schedules}`,
    `DROP TABLE IF EXISTS ${n.jobs}`,
    `DROP SEQUENCE IF EXISTS ${n.fencingSeq}`,
  ],
};
