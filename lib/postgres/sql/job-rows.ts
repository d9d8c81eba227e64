import { InvalidArgumentError } from '../../scheduler.errors.js';
import type { JsonObject, JsonValue } from '../../common/json.js';
import type { ErrorClass, Job, JobAttemptError, JobProgress, JobState, JobTraceContext } from '../../store/job.types.js';
import { decodePreemptible } from '../../store/preemptible.codec.js';
import { isErrorClass, storableAttemptError } from '../../store/storable-output.js';

/**
 * The columns of a job, listed rather than `*`: a prepared statement whose
 * result shape changes under it (a migration adding a column while nodes
 * run) fails with "cached plan must not change result type".
 */
const COLUMNS = [
  'id',
  'name',
  'schedule',
  'queue',
  'args',
  'state',
  'priority',
  'attempt',
  'max_attempts',
  'timeout_ms',
  'run_at',
  'scheduled_at',
  'misfired',
  'inserted_at',
  'started_at',
  'finished_at',
  'heartbeat_at',
  'node',
  'fencing_token',
  'tick_key',
  'unique_key',
  'serial_key',
  'pinned_node',
  'tags',
  'meta',
  'result',
  'errors',
  'trace',
  'progress',
  'preemptible',
] as const;

/**
 * The job columns for a select list, qualified by `alias`.
 * @internal
 */
export function jobColumns(alias: string): string {
  return COLUMNS.map((column) => `${alias}.${column}`).join(', ');
}

/**
 * What a claim returns, one JSON array per job: the columns the claim did
 * not just set itself (state, node, started_at, heartbeat_at are known to the
 * caller, and a claimable job has no finished_at), timestamps as epoch
 * milliseconds. One JSON.parse per row instead of pg's parse of 23 text
 * fields, and a `Number()` instead of a date parse: at tens of thousands of
 * claimed jobs a second, pg's row and timestamp parsing were 10 % of a
 * drain's Node CPU.
 */
const CLAIMED = [
  'id::text',
  'name',
  'schedule',
  'queue',
  'args',
  'priority',
  'attempt',
  'max_attempts',
  'timeout_ms',
  'misfired',
  'fencing_token',
  'tick_key',
  'unique_key',
  'serial_key',
  'pinned_node',
  'tags',
  'meta',
  'result',
  'errors',
  'trace',
  'progress',
  'preemptible',
] as const;
const CLAIMED_TIMES = ['run_at', 'scheduled_at', 'inserted_at'] as const;

/**
 * A timestamptz as whole epoch milliseconds (float8), exactly, rounded down.
 * `extract(epoch …)` is numeric since PostgreSQL 14, and its numeric
 * multiply, floor and cast for three timestamps were ~3 µs of PostgreSQL CPU
 * per claimed job (measured here, of ~30 µs for the whole claim).
 * `date_part` divides the exact microsecond count in float8. Its two
 * roundings (the quotient, then the product by 1000) leave the result within
 * 0.25 µs of the true value until 2039 and within 0.49 µs until 2106, so
 * adding half a microsecond before `floor` gives the exact millisecond of
 * every microsecond timestamp until 2106 (beyond, at most 1 ms off).
 * @internal
 */
export function epochMs(expression: string): string {
  return `floor(date_part('epoch', ${expression}) * 1000 + 0.0005)`;
}

/**
 * The select-list item of a claimed job ({@link toClaimedJob}), qualified by `alias`.
 * @internal
 */
export function claimedJson(alias: string): string {
  const items = [...CLAIMED.map((column) => `${alias}.${column}`), ...CLAIMED_TIMES.map((column) => epochMs(`${alias}.${column}`))];
  return `json_build_array(${items.join(', ')}) AS job`;
}

/**
 * A claimed job ({@link claimedJson}).
 * @internal
 */
export type ClaimedJson = [
  id: string,
  name: string,
  schedule: string | null,
  queue: string,
  args: JsonValue,
  priority: number,
  attempt: number,
  maxAttempts: number,
  timeout: number | null,
  misfired: boolean,
  fencingToken: number,
  tickKey: string | null,
  uniqueKey: string | null,
  serialKey: string | null,
  pinnedNode: string | null,
  tags: string[] | null,
  meta: JsonObject | null,
  result: JsonValue | null,
  errors: StoredError[] | null,
  trace: JobTraceContext | null,
  progress: JobProgress | null,
  preemptible: string | null,
  runAt: number,
  scheduledAt: number,
  insertedAt: number,
];

/**
 * The jobs of a claim's (or a push's) one-row answer, a JSON array of
 * {@link claimedJson} items in claim order, running on `node` since `now`:
 * the first `started` have started, the rest are claimed ahead.
 * @internal
 */
export function toClaimedJobs(json: string, now: Date, node: string, started: number): Job[] {
  return (JSON.parse(json) as ClaimedJson[]).map((job, i) => toClaimedJob(job, now, node, i < started));
}

/** The job a claim returned, running on `node` since `now` (`started`: false for a job claimed ahead, not started yet). */
function toClaimedJob(c: ClaimedJson, now: Date, node: string, started: boolean): Job {
  return {
    id: c[0],
    name: c[1],
    schedule: c[2],
    queue: c[3],
    args: c[4],
    state: 'running',
    priority: c[5],
    attempt: c[6],
    maxAttempts: c[7],
    timeout: c[8],
    runAt: new Date(c[22]),
    scheduledAt: new Date(c[23]),
    misfired: c[9],
    insertedAt: new Date(c[24]),
    startedAt: started ? new Date(now.getTime()) : null,
    finishedAt: null,
    heartbeatAt: new Date(now.getTime()),
    node,
    fencingToken: c[10],
    tickKey: c[11],
    uniqueKey: c[12],
    serialKey: c[13],
    pinnedNode: c[14],
    tags: c[15] ?? [],
    meta: c[16] ?? {},
    result: c[17] ?? null,
    errors: toErrors(c[18]),
    trace: toTrace(c[19]),
    progress: c[20] ?? null,
    preemptible: decodePreemptible(c[21]),
  };
}

/**
 * A job row as pg returns it (default type parsers; tolerant of apps that changed them).
 * @internal
 */
export interface JobRow {
  id: string | number;
  name: string;
  schedule: string | null;
  queue: string;
  args: JsonValue;
  state: JobState;
  priority: number;
  attempt: number;
  max_attempts: number;
  timeout_ms: number | null;
  run_at: Date | string;
  scheduled_at: Date | string;
  misfired: boolean;
  inserted_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  heartbeat_at: Date | string | null;
  node: string | null;
  fencing_token: string | number;
  tick_key: string | null;
  unique_key: string | null;
  serial_key: string | null;
  pinned_node: string | null;
  tags: string[] | null;
  meta: JsonObject | null;
  result: JsonValue | null;
  errors: StoredError[] | null;
  trace: JobTraceContext | null;
  progress: JobProgress | null;
  preemptible: string | null;
}

/** A {@link JobAttemptError} as kept in the `errors` jsonb array (`at` as ISO text). */
interface StoredError {
  attempt: number;
  at: string;
  name: string;
  message: string;
  stack?: string;
  kind: string;
  errorClass?: ErrorClass;
}

/**
 * The job a row holds: ids as strings, the bigint fencing token as a number, dates as `Date`.
 * @internal
 */
export function toJob(row: JobRow): Job {
  return {
    id: String(row.id),
    name: row.name,
    schedule: row.schedule,
    queue: row.queue,
    args: row.args,
    state: row.state,
    priority: Number(row.priority),
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    timeout: row.timeout_ms === null ? null : Number(row.timeout_ms),
    runAt: toDate(row.run_at),
    scheduledAt: toDate(row.scheduled_at),
    misfired: row.misfired,
    insertedAt: toDate(row.inserted_at),
    startedAt: toDateOrNull(row.started_at),
    finishedAt: toDateOrNull(row.finished_at),
    heartbeatAt: toDateOrNull(row.heartbeat_at),
    node: row.node,
    fencingToken: Number(row.fencing_token),
    tickKey: row.tick_key,
    uniqueKey: row.unique_key,
    serialKey: row.serial_key,
    pinnedNode: row.pinned_node,
    tags: row.tags ?? [],
    meta: row.meta ?? {},
    result: row.result ?? null,
    errors: toErrors(row.errors),
    trace: toTrace(row.trace),
    progress: row.progress ?? null,
    preemptible: decodePreemptible(row.preemptible),
  };
}

function toErrors(errors: StoredError[] | null): JobAttemptError[] {
  if (errors === null || errors.length === 0) return [];
  return errors.map(({ attempt, at, name, message, stack, kind, errorClass }) => ({
    attempt,
    at: new Date(at),
    name,
    message,
    ...(stack === undefined || stack === null ? {} : { stack }),
    kind,
    ...(isErrorClass(errorClass) ? { errorClass } : {}),
  }));
}

function toTrace(trace: JobTraceContext | null): JobTraceContext | null {
  return trace ? { traceId: trace.traceId, spanId: trace.spanId, traceFlags: trace.traceFlags } : null;
}

/**
 * An attempt error as jsonb text, cleaned (see `storableAttemptError`):
 * jsonb cannot hold U+0000 or a lone surrogate, and an acknowledgement must
 * never fail because of what a handler threw.
 * @internal
 */
export function errorJson(error: JobAttemptError): string {
  const clean = storableAttemptError(error);
  const stored: StoredError = {
    attempt: clean.attempt,
    at: clean.at.toISOString(),
    name: clean.name,
    message: clean.message,
    ...(clean.stack === undefined ? {} : { stack: clean.stack }),
    kind: clean.kind,
    ...(clean.errorClass === undefined ? {} : { errorClass: clean.errorClass }),
  };
  return JSON.stringify(stored);
}

/**
 * The bigint id for a job id string, or `null` when no job can have it (the store never asks the database).
 * @internal
 */
export function toDbId(id: string): string | null {
  return typeof id === 'string' && /^[1-9][0-9]{0,17}$/.test(id) ? id : null;
}

/**
 * A timestamp as pg returns it (a `Date`, or text when an app changed the type parser), or as kept in jsonb.
 * @internal
 */
export function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/**
 * {@link toDate}, keeping `null`.
 * @internal
 */
export function toDateOrNull(value: Date | string | null): Date | null {
  return value === null ? null : toDate(value);
}

const INT8_MAX = 9_223_372_036_854_775_807n;

/**
 * A keyset cursor (`afterId`) as a bigint the database reads: digits past the
 * bigint range are its largest value, which orders the same way against every
 * id a row can have (`id < max`: all of them; `id > max`: none), where the
 * cast itself would fail ("out of range for type bigint").
 * @throws InvalidArgumentError for a cursor that is not digits
 * @internal
 */
export function toDbCursor(id: string, argument = 'afterId'): string {
  if (typeof id !== 'string' || !/^[0-9]{1,1000}$/.test(id)) throw new InvalidArgumentError(argument, 'must be an id (digits)');
  return BigInt(id) > INT8_MAX ? INT8_MAX.toString() : id;
}
