import type pg from 'pg';
import type { Job, QueueCounts } from '../../../lib/store/job.types.js';
import { fullJob, fullRun, OLD_JOBS, OLD_QUEUE_STATES, OLD_RUNS, OLD_RUNS_SINCE, OLD_SCHEDULE_STATES, OLD_SCHEDULES } from './old-layout.fixture.js';

// Raw SQL, as the old release's tables hold rows: this file must not use the
// store (its statements follow the newest layout), only the old columns.

/**
 * The migrations after which the tables have the layout written here: 001
 * made the columns, 002 added workflow runs, 003 changed only indexes and the
 * fillfactor. A migration that changes the layout is not added to this list:
 * a schema past it needs a writer of its own.
 */
export const OLD_LAYOUT_VERSIONS: readonly number[] = [1, 2, 3];

/** A table's quoted, qualified name, e.g. `table('jobs')` → `"s"."scheduler_jobs"`. */
export type TableName = (name: string) => string;

/** The ids the old rows got, by label. */
export interface OldDeployment {
  jobs: Map<string, string>;
  runs: Map<string, string>;
}

/** Column list of the old jobs table, in the order {@link jobValues} gives them. */
const JOB_COLUMNS = `name, schedule, queue, args, state, priority, attempt, max_attempts, timeout_ms, run_at, scheduled_at, inserted_at, misfired,
  started_at, finished_at, heartbeat_at, node, fencing_token, tick_key, unique_key, serial_key, pinned_node, tags, meta, result, errors, trace`;

function jobValues(j: Omit<Job, 'id'>): unknown[] {
  const json = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));
  // An older release kept the attempt errors with `at` as ISO text, as today.
  const errors = j.errors.map((e) => ({ ...e, at: e.at.toISOString() }));
  return [
    j.name,
    j.schedule,
    j.queue,
    JSON.stringify(j.args),
    j.state,
    j.priority,
    j.attempt,
    j.maxAttempts,
    j.timeout,
    j.runAt,
    j.scheduledAt,
    j.insertedAt,
    j.misfired,
    j.startedAt,
    j.finishedAt,
    j.heartbeatAt,
    j.node,
    j.fencingToken,
    j.tickKey,
    j.uniqueKey,
    j.serialKey,
    j.pinnedNode,
    j.tags,
    JSON.stringify(j.meta),
    json(j.result),
    JSON.stringify(errors),
    json(j.trace),
  ];
}

/** The fencing sequence where the old deployment left it: at its largest token. */
async function settleSequences(client: pg.ClientBase, table: TableName): Promise<void> {
  await client.query(`SELECT setval($1::regclass, greatest(1, (SELECT max(fencing_token) FROM ${table('jobs')})))`, [table('fencing_seq')]);
}

/**
 * Writes the fixture's jobs, schedules, states and (from {@link OLD_RUNS_SINCE}) workflow runs
 * into tables migrated up to `version`, one of {@link OLD_LAYOUT_VERSIONS}.
 */
export async function populateOldLayout(client: pg.ClientBase, table: TableName, version: number): Promise<OldDeployment> {
  if (!OLD_LAYOUT_VERSIONS.includes(version)) throw new Error(`no writer for the layout of migration ${version}`);
  const placeholders = Array.from({ length: 27 }, (_, i) => `$${i + 1}`).join(', ');
  const jobs = new Map<string, string>();
  for (const old of OLD_JOBS) {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO ${table('jobs')} (${JOB_COLUMNS}) VALUES (${placeholders}) RETURNING id`,
      jobValues(fullJob(old)),
    );
    jobs.set(old.label, rows[0]!.id);
  }
  await settleSequences(client, table);
  for (const s of OLD_SCHEDULES) await client.query(`INSERT INTO ${table('schedules')} (name, definition) VALUES ($1, $2)`, [s.name, s.definition]);
  for (const s of OLD_SCHEDULE_STATES) {
    await client.query(`INSERT INTO ${table('schedule_states')} (name, paused, planned_until) VALUES ($1, $2, $3)`, [s.name, s.paused, s.plannedUntil]);
  }
  for (const q of OLD_QUEUE_STATES) {
    await client.query(`INSERT INTO ${table('queue_states')} (name, paused, concurrency) VALUES ($1, $2, $3)`, [q.name, q.paused, q.concurrency]);
  }
  const runs = new Map<string, string>();
  if (version < OLD_RUNS_SINCE) return { jobs, runs };
  for (const old of OLD_RUNS) {
    const r = fullRun(old, jobs);
    // Step dates as ISO text inside the jsonb (JSON.stringify writes them so).
    const values = [r.workflow, r.version, r.state, JSON.stringify(r.context), JSON.stringify(r.steps), r.seq, r.error, r.trace && JSON.stringify(r.trace)];
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO ${table('workflow_runs')} (workflow, version, state, context, steps, seq, error, trace, run_at, created_at, updated_at, finished_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
      [...values, r.runAt, r.createdAt, r.updatedAt, r.finishedAt],
    );
    runs.set(old.label, rows[0]!.id);
  }
  return { jobs, runs };
}

/**
 * `count` jobs in one INSERT … generate_series, as a busy old deployment holds
 * them: ~36 % queued (one in seven of those due later, one in three with a
 * unique key), 2 % running on a node that is gone (heartbeats 5 minutes old),
 * the rest finished (completed with a tick key and a result, dead with an
 * error, discarded, cancelled; finished `i` seconds before `now`) in queues
 * `bulk-a` and `bulk-b`, priorities 0–9.
 */
export async function populateBulk(client: pg.ClientBase, table: TableName, count: number, now: Date): Promise<void> {
  await client.query(
    `INSERT INTO ${table('jobs')} (name, queue, args, state, priority, attempt, max_attempts, run_at, scheduled_at, inserted_at,
      started_at, finished_at, heartbeat_at, node, fencing_token, tick_key, unique_key, result, errors)
    SELECT 'bulk-' || (i % 3), CASE WHEN i % 2 = 0 THEN 'bulk-a' ELSE 'bulk-b' END, jsonb_build_object('i', i, 'pad', repeat('x', 100)),
      s.state, i % 10, CASE s.state WHEN 'available' THEN 0 WHEN 'cancelled' THEN 0 WHEN 'dead' THEN 3 ELSE 1 END, 3,
      k.run_at, k.run_at, k.run_at - interval '1 second',
      CASE WHEN s.state NOT IN ('available', 'cancelled') THEN k.run_at END,
      k.finished_at,
      CASE WHEN s.state = 'running' THEN $2::timestamptz - interval '5 minutes' ELSE k.finished_at END,
      CASE WHEN s.state <> 'available' THEN 'node-gone' END,
      CASE WHEN s.state = 'available' THEN 0 ELSE i END,
      CASE WHEN s.state = 'completed' THEN 'bulk:' || i END,
      CASE WHEN s.state = 'available' AND i % 3 = 0 THEN 'u:' || i END,
      CASE WHEN s.state = 'completed' THEN jsonb_build_object('ok', i) END,
      CASE WHEN s.state = 'dead' THEN jsonb_build_array(jsonb_build_object('attempt', 3, 'at', to_char(k.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'name', 'Error', 'message', 'boom ' || i, 'kind', 'error')) ELSE '[]'::jsonb END
    FROM generate_series(1, $1::int) AS i
    CROSS JOIN LATERAL (SELECT CASE WHEN i % 50 = 0 THEN 'running' WHEN i % 10 < 4 THEN 'available'
      ELSE (ARRAY['completed', 'dead', 'discarded', 'cancelled'])[i % 4 + 1] END AS state) s
    CROSS JOIN LATERAL (SELECT
      CASE WHEN s.state = 'available' AND i % 7 = 0 THEN $2::timestamptz + i * interval '1 second'
        WHEN s.state = 'available' THEN $2::timestamptz - i * interval '1 millisecond'
        WHEN s.state = 'running' THEN $2::timestamptz - interval '10 minutes'
        ELSE $2::timestamptz - (i + 1) * interval '1 second' END AS run_at,
      CASE WHEN s.state IN ('available', 'running') THEN NULL ELSE $2::timestamptz - i * interval '1 second' END AS finished_at) k`,
    [count, now],
  );
  await settleSequences(client, table);
}

/** What the old rows say, read from the old layout itself, to compare with what the upgraded store answers. */
export interface OldTotals {
  /** As `queueCounts(now)` defines them. */
  queues: QueueCounts[];
  /** Ids of the first `claimLimit` due jobs of `claimQueue`, in claim order (priority, run_at, id). */
  claimOrder: string[];
  running: number;
  /** Finished before `before`. */
  prunable: number;
}

/** {@link OldTotals} of a bulk deployment (no pins, serial keys or paused names). */
export async function readOldTotals(
  client: pg.ClientBase,
  table: TableName,
  now: Date,
  before: Date,
  claimQueue: string,
  claimLimit: number,
): Promise<OldTotals> {
  const jobs = table('jobs');
  const states = ['running', 'completed', 'dead', 'discarded', 'cancelled'].map((s) => `count(*) FILTER (WHERE state = '${s}')::int AS ${s}`);
  const queues = await client.query<QueueCounts>(
    `SELECT queue, count(*) FILTER (WHERE state = 'available' AND run_at <= $1)::int AS available,
      count(*) FILTER (WHERE state = 'available' AND run_at > $1)::int AS scheduled, ${states.join(', ')}
    FROM ${jobs} GROUP BY queue ORDER BY queue`,
    [now],
  );
  const claim = await client.query<{ id: string }>(
    `SELECT id::text FROM ${jobs} WHERE state = 'available' AND queue = $1 AND run_at <= $2 ORDER BY priority, run_at, id LIMIT $3`,
    [claimQueue, now, claimLimit],
  );
  const [row] = (
    await client.query<{ running: number; prunable: number }>(
      `SELECT count(*) FILTER (WHERE state = 'running')::int AS running, count(*) FILTER (WHERE finished_at < $1)::int AS prunable FROM ${jobs}`,
      [before],
    )
  ).rows;
  return { queues: queues.rows, claimOrder: claim.rows.map((r) => r.id), running: row!.running, prunable: row!.prunable };
}
