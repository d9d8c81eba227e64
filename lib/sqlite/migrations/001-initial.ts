import type { SqliteMigration } from './sqlite-migration.js';

/**
 * The whole schema of the first release. Times are integers of epoch
 * milliseconds (every millisecond from year 1 to 9999 round-trips, and
 * comparisons stay integer compares); JSON is kept as text.
 *
 * The partial indexes keep each index to the rows it serves: the ready index
 * holds only `available` jobs (history never slows a claim), the running
 * index only `running` ones (the lifeline sweep).
 * @internal
 */
export const initialMigration: SqliteMigration = {
  id: 1,
  name: 'initial',
  up: [
    // AUTOINCREMENT: an id is never reused after the newest job is deleted, so
    // a late acknowledgement of a deleted job can never reach another job.
    `CREATE TABLE jobs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL,
      schedule TEXT,
      queue TEXT NOT NULL,
      args TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('available', 'running', 'completed', 'dead', 'discarded', 'cancelled')),
      priority INTEGER NOT NULL,
      attempt INTEGER NOT NULL DEFAULT 0,
      max_attempts INTEGER NOT NULL,
      timeout_ms INTEGER,
      run_at INTEGER NOT NULL,
      scheduled_at INTEGER NOT NULL,
      inserted_at INTEGER NOT NULL,
      misfired INTEGER NOT NULL DEFAULT 0,
      started_at INTEGER,
      finished_at INTEGER,
      heartbeat_at INTEGER,
      node TEXT,
      fencing_token INTEGER NOT NULL DEFAULT 0,
      tick_key TEXT,
      unique_key TEXT,
      serial_key TEXT,
      pinned_node TEXT,
      tags TEXT NOT NULL DEFAULT '[]',
      meta TEXT NOT NULL DEFAULT '{}',
      result TEXT,
      errors TEXT NOT NULL DEFAULT '[]',
      trace TEXT
    )`,
    // Claims walk this in (priority, run_at, id) order for one queue.
    `CREATE INDEX jobs_ready_idx ON jobs (queue, priority, run_at, id) WHERE state = 'available'`,
    // One job per (schedule, tick), for as long as the job exists.
    `CREATE UNIQUE INDEX jobs_tick_key_idx ON jobs (tick_key) WHERE tick_key IS NOT NULL`,
    // Waiting and running jobs of a serial key (claims and inserts look them up).
    `CREATE INDEX jobs_serial_idx ON jobs (serial_key, state) WHERE serial_key IS NOT NULL AND state IN ('available', 'running')`,
    `CREATE INDEX jobs_running_idx ON jobs (heartbeat_at) WHERE state = 'running'`,
    `CREATE INDEX jobs_finished_idx ON jobs (finished_at, id) WHERE finished_at IS NOT NULL`,
    `CREATE INDEX jobs_queue_state_idx ON jobs (queue, state)`,
    `CREATE INDEX jobs_name_idx ON jobs (name, id)`,
    `CREATE INDEX jobs_schedule_idx ON jobs (schedule, id) WHERE schedule IS NOT NULL`,
    // The holder of each unique key: taken at insert or resurrect, kept past a
    // completion when its states (mask: 1 scheduled, 2 available, 4 running,
    // 8 completed) include completed, taken over by an insert it no longer blocks.
    `CREATE TABLE unique_keys (key TEXT PRIMARY KEY, id INTEGER NOT NULL, mask INTEGER NOT NULL, since INTEGER NOT NULL)`,
    `CREATE INDEX unique_keys_id_idx ON unique_keys (id)`,
    `CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
    `INSERT INTO counters (name, value) VALUES ('fencing_token', 0)`,
    `CREATE TABLE schedules (name TEXT PRIMARY KEY, definition TEXT NOT NULL)`,
    `CREATE TABLE schedule_states (name TEXT PRIMARY KEY, paused INTEGER NOT NULL DEFAULT 0, planned_until INTEGER)`,
    `CREATE TABLE queue_states (name TEXT PRIMARY KEY, paused INTEGER NOT NULL DEFAULT 0, concurrency INTEGER)`,
    // Dead jobs with what their filters, counts and pruning read, and their alert.
    `CREATE TABLE dead_letters (
      id INTEGER PRIMARY KEY,
      queue TEXT NOT NULL,
      name TEXT NOT NULL,
      error_class TEXT NOT NULL,
      died_at INTEGER NOT NULL,
      alert_at INTEGER,
      alert_tries INTEGER NOT NULL DEFAULT 0
    )`,
    `CREATE INDEX dead_letters_died_idx ON dead_letters (died_at, id)`,
    `CREATE INDEX dead_letters_alert_idx ON dead_letters (alert_at, id) WHERE alert_at IS NOT NULL`,
    `CREATE TABLE breakers (name TEXT PRIMARY KEY, record TEXT NOT NULL)`,
    `CREATE TABLE rate_buckets (
      kind TEXT NOT NULL,
      name TEXT NOT NULL,
      tokens REAL NOT NULL,
      updated_at INTEGER NOT NULL,
      capacity REAL NOT NULL,
      refill_per_second REAL NOT NULL,
      PRIMARY KEY (kind, name)
    )`,
    `CREATE TABLE workflow_runs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      workflow TEXT NOT NULL,
      version TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('scheduled', 'running', 'paused', 'completed', 'failed', 'cancelled')),
      context TEXT NOT NULL,
      steps TEXT NOT NULL,
      seq INTEGER NOT NULL DEFAULT 0,
      error TEXT,
      trace TEXT,
      run_at INTEGER,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      finished_at INTEGER
    )`,
    `CREATE INDEX workflow_runs_name_idx ON workflow_runs (workflow, id)`,
    `CREATE INDEX workflow_runs_state_idx ON workflow_runs (state, id)`,
    `CREATE INDEX workflow_runs_done_idx ON workflow_runs (finished_at, id) WHERE finished_at IS NOT NULL`,
    // The leader lease (one row) and the processes that have the file open.
    `CREATE TABLE leases (name TEXT PRIMARY KEY, node TEXT NOT NULL, expires_at INTEGER NOT NULL)`,
    `CREATE TABLE nodes (node TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, started_at INTEGER NOT NULL)`,
    // Notifications among the processes: appended, read by id, swept after a minute.
    `CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL, at INTEGER NOT NULL, body TEXT NOT NULL)`,
  ],
};
