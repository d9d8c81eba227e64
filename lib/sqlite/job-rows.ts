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
    tags: JSON.parse(row.tags) as string[],
    meta: JSON.parse(row.meta) as JsonObject,
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
