import type { JsonObject, JsonValue } from '../common/json.js';
import type { Job, JobAttemptError, JobProgress, JobState, JobTraceContext } from '../store/job.types.js';
import { decodePreemptible } from '../store/preemptible.codec.js';

/**
 * A row of `jobs` as better-sqlite3 returns it.
 * @internal
 */
export interface JobRow {
  id: number;
  name: string;
  schedule: string | null;
  queue: string;
  args: string;
  state: JobState;
  priority: number;
  attempt: number;
  max_attempts: number;
  timeout_ms: number | null;
  run_at: number;
  scheduled_at: number;
  inserted_at: number;
  misfired: number;
  started_at: number | null;
  finished_at: number | null;
  heartbeat_at: number | null;
  node: string | null;
  fencing_token: number;
  tick_key: string | null;
  unique_key: string | null;
  serial_key: string | null;
  pinned_node: string | null;
  tags: string;
  meta: string;
  result: string | null;
  errors: string;
  trace: string | null;
  progress: string | null;
  preemptible: string | null;
}

/**
 * Every column of `jobs` in a fixed order, for statements read as arrays
 * (better-sqlite3's `.raw(true)`, decoded by {@link rowFromValues}). Why
 * arrays: a claim of 500 jobs spent half its time on better-sqlite3
 * building a 30-property object per row for `RETURNING *`; on the bare
 * statement, 16–33 µs a job as objects against 13–17 as arrays.
 * @internal
 */
export const JOB_COLUMNS =
  'id, name, schedule, queue, args, state, priority, attempt, max_attempts, timeout_ms, run_at, scheduled_at, inserted_at, misfired, ' +
  'started_at, finished_at, heartbeat_at, node, fencing_token, tick_key, unique_key, serial_key, pinned_node, tags, meta, result, errors, ' +
  'trace, progress, preemptible';

/**
 * The row a statement selecting {@link JOB_COLUMNS} returned as an array.
 * @internal
 */
export function rowFromValues(v: readonly unknown[]): JobRow {
  return {
    id: v[0] as number,
    name: v[1] as string,
    schedule: v[2] as string | null,
    queue: v[3] as string,
    args: v[4] as string,
    state: v[5] as JobState,
    priority: v[6] as number,
    attempt: v[7] as number,
    max_attempts: v[8] as number,
    timeout_ms: v[9] as number | null,
    run_at: v[10] as number,
    scheduled_at: v[11] as number,
    inserted_at: v[12] as number,
    misfired: v[13] as number,
    started_at: v[14] as number | null,
    finished_at: v[15] as number | null,
    heartbeat_at: v[16] as number | null,
    node: v[17] as string | null,
    fencing_token: v[18] as number,
    tick_key: v[19] as string | null,
    unique_key: v[20] as string | null,
    serial_key: v[21] as string | null,
    pinned_node: v[22] as string | null,
    tags: v[23] as string,
    meta: v[24] as string,
    result: v[25] as string | null,
    errors: v[26] as string,
    trace: v[27] as string | null,
    progress: v[28] as string | null,
    preemptible: v[29] as string | null,
  };
}

/** An attempt error as kept in the `errors` column (its time in epoch ms). */
interface StoredError extends Omit<JobAttemptError, 'at'> {
  at: number;
}

/**
 * The job a row holds, sharing nothing with it.
 * @internal
 */
export function toJob(row: JobRow): Job {
  return {
    id: String(row.id),
    name: row.name,
    schedule: row.schedule,
    queue: row.queue,
    args: JSON.parse(row.args) as JsonValue,
    state: row.state,
    priority: row.priority,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    timeout: row.timeout_ms,
    runAt: new Date(row.run_at),
    scheduledAt: new Date(row.scheduled_at),
    misfired: row.misfired === 1,
    insertedAt: new Date(row.inserted_at),
    startedAt: toDate(row.started_at),
    finishedAt: toDate(row.finished_at),
    heartbeatAt: toDate(row.heartbeat_at),
    node: row.node,
    fencingToken: row.fencing_token,
    tickKey: row.tick_key,
    uniqueKey: row.unique_key,
    serialKey: row.serial_key,
    pinnedNode: row.pinned_node,
    // The usual empty defaults without the parser: three parses a job of every claim.
    tags: row.tags === '[]' ? [] : (JSON.parse(row.tags) as string[]),
    meta: row.meta === '{}' ? {} : (JSON.parse(row.meta) as JsonObject),
    result: row.result === null ? null : (JSON.parse(row.result) as JsonValue),
    errors: parseErrors(row.errors),
    trace: row.trace === null ? null : (JSON.parse(row.trace) as JobTraceContext),
    progress: row.progress === null ? null : (JSON.parse(row.progress) as JobProgress),
    preemptible: decodePreemptible(row.preemptible),
  };
}

/**
 * The kept errors of a row, oldest first.
 * @internal
 */
export function parseErrors(text: string): JobAttemptError[] {
  if (text === '[]') return [];
  return (JSON.parse(text) as StoredError[]).map((error) => ({ ...error, at: new Date(error.at) }));
}

/**
 * Errors as the `errors` column keeps them.
 * @internal
 */
export function errorsJson(errors: readonly JobAttemptError[]): string {
  return JSON.stringify(errors.map((error) => ({ ...error, at: error.at.getTime() })));
}

/**
 * The row id an id names, or `null` for an id no job can have.
 * @internal
 */
export function toRowId(id: string): number | null {
  if (typeof id !== 'string' || !/^[1-9][0-9]{0,15}$/.test(id)) return null;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : null;
}

function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}
