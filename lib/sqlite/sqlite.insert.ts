import type { InsertOptions } from '../store/job-store.js';
import type { InsertResult, NewJob } from '../store/job.types.js';
import type { CheckedJob } from '../store/job-input.validation.js';
import { claimableAtInsert } from '../store/new-job.js';
import { encodePreemptible } from '../store/preemptible.codec.js';
import { toJob, type JobRow } from './job-rows.js';
import type { SqliteJobTable } from './sqlite.job-table.js';

const INSERT_SQL = `INSERT INTO jobs (name, schedule, queue, args, state, priority, max_attempts, timeout_ms, run_at, scheduled_at, inserted_at,
  misfired, tick_key, unique_key, serial_key, pinned_node, tags, meta, trace, preemptible)
  VALUES (?, ?, ?, ?, 'available', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`;

/**
 * Inserts checked jobs one after the other (so each one's keys are checked
 * against those before it in the batch), inside the caller's write
 * transaction. A job whose tick, unique or serial key is held is not
 * inserted: its result names the holder.
 * @internal
 */
export function insertJobs(table: SqliteJobTable, jobs: readonly NewJob[], checked: readonly CheckedJob[], options: InsertOptions): InsertResult[] {
  const claimFor = options.claimFor;
  const now = (options.now ?? claimFor?.now ?? options.push?.now ?? new Date()).getTime();
  const insertedAt = Date.now();
  const paused = claimFor ? table.pausedNames() : null;
  return jobs.map((input, i) => {
    const conflict = conflictOf(table, input, now);
    if (conflict) return { job: toJob(conflict.row), inserted: false, conflict: conflict.key };
    const runAt = input.runAt.getTime();
    let row = table
      .sql(INSERT_SQL)
      .get(
        input.name,
        input.schedule ?? null,
        input.queue,
        checked[i]!.args,
        input.priority,
        input.maxAttempts,
        input.timeout,
        runAt,
        input.scheduledAt?.getTime() ?? runAt,
        insertedAt,
        input.misfired ? 1 : 0,
        input.tickKey ?? null,
        input.uniqueKey ?? null,
        input.serialKey ?? null,
        input.pinnedNode ?? null,
        JSON.stringify(input.tags ?? []),
        checked[i]!.meta,
        input.trace ? JSON.stringify({ traceId: input.trace.traceId, spanId: input.trace.spanId, traceFlags: input.trace.traceFlags }) : null,
        encodePreemptible(input.preemptible),
      ) as JobRow;
    if (input.uniqueKey != null) table.takeUnique(input.uniqueKey, row.id, input.uniqueStates, now);
    if (claimFor && paused && claimableAtInsert(input, claimFor.now) && !table.blocked(row, paused)) {
      row = table.start(row.id, claimFor.node, claimFor.now.getTime(), true);
    }
    return { job: toJob(row), inserted: true };
  });
}

/** The job an insert at `now` (ms) collides with: tick, then unique, then serial key. */
function conflictOf(table: SqliteJobTable, input: NewJob, now: number): { row: JobRow; key: 'tick' | 'unique' | 'serial' } | null {
  if (input.tickKey != null) {
    const row = table.sql('SELECT * FROM jobs WHERE tick_key = ?').get(input.tickKey) as JobRow | undefined;
    if (row) return { row, key: 'tick' };
  }
  if (input.uniqueKey != null) {
    const row = table.uniqueHolder(input.uniqueKey, input, now);
    if (row) return { row, key: 'unique' };
  }
  if (input.serialKey != null) {
    const row = table.sql(`SELECT * FROM jobs WHERE serial_key = ? AND state = 'available' ORDER BY id LIMIT 1`).get(input.serialKey) as JobRow | undefined;
    if (row) return { row, key: 'serial' };
  }
  return null;
}
