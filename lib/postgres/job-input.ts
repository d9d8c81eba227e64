import { InvalidArgumentError, PayloadTooLargeError } from '../scheduler.errors.js';
import type { NewJob } from '../store/job.types.js';
import { insertRecordJson, type InsertRecord } from './sql/insert.sql.js';

const INT_MAX = 2_147_483_647;
/** JSON text with an escaped U+0000 that is not itself an escaped backslash: jsonb cannot store it. */
const JSON_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * A job as the insert statement's JSON record, checked first so a bad job
 * fails alone, with a typed error, before any SQL runs (one bad job would
 * otherwise fail the whole batch with a database error).
 *
 * @throws PayloadTooLargeError when `args` serialise to more than `maxPayloadBytes`.
 * @throws InvalidArgumentError for values PostgreSQL cannot store (U+0000 in text,
 *   out-of-range integers, invalid dates).
 */
export function insertRecord(job: NewJob, ord: number, maxPayloadBytes: number): string {
  const argsJson = JSON.stringify(job.args ?? null);
  if (argsJson === undefined) throw new InvalidArgumentError('args', 'must be JSON');
  const bytes = Buffer.byteLength(argsJson);
  if (bytes > maxPayloadBytes) throw new PayloadTooLargeError(bytes, maxPayloadBytes);
  if (hasNul(argsJson)) throw new InvalidArgumentError('args', 'must not contain U+0000 (PostgreSQL cannot store it)');

  const record: InsertRecord = {
    ord,
    name: text('name', job.name),
    schedule: textOrNull('schedule', job.schedule),
    queue: text('queue', job.queue),
    priority: integer('priority', job.priority, -32_768, 32_767),
    max_attempts: integer('maxAttempts', job.maxAttempts, 0, INT_MAX),
    timeout_ms: job.timeout === null || job.timeout === undefined ? null : integer('timeout', job.timeout, 0, INT_MAX),
    run_at: date('runAt', job.runAt),
    scheduled_at: date('scheduledAt', job.scheduledAt ?? job.runAt),
    misfired: job.misfired ?? false,
    tick_key: textOrNull('tickKey', job.tickKey),
    unique_key: textOrNull('uniqueKey', job.uniqueKey),
    serial_key: textOrNull('serialKey', job.serialKey),
    pinned_node: textOrNull('pinnedNode', job.pinnedNode),
    tags: (job.tags ?? []).map((tag) => text('tags', tag)),
    meta: job.meta ?? {},
    trace: job.trace ? { traceId: job.trace.traceId, spanId: job.trace.spanId, traceFlags: job.trace.traceFlags } : null,
  };
  const recordJson = JSON.stringify(record);
  if (hasNul(recordJson)) throw new InvalidArgumentError('meta', 'must not contain U+0000 (PostgreSQL cannot store it)');
  return insertRecordJson(recordJson, argsJson);
}

/** The regular expression only when the text holds the escape at all (it rarely does; the scan showed in profiles). */
function hasNul(json: string): boolean {
  return json.includes('\\u0000') && JSON_NUL.test(json);
}

function text(argument: string, value: unknown): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(argument, 'must be a string');
  if (value.includes('\u0000')) throw new InvalidArgumentError(argument, 'must not contain U+0000 (PostgreSQL cannot store it)');
  return value;
}

function textOrNull(argument: string, value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : text(argument, value);
}

function integer(argument: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(argument, `must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

let lastMs = NaN;
let lastIso = '';
function date(argument: string, value: Date): string {
  if (!(value instanceof Date)) throw new InvalidArgumentError(argument, 'must be a valid Date');
  const ms = value.getTime();
  if (Number.isNaN(ms)) throw new InvalidArgumentError(argument, 'must be a valid Date');
  // The jobs of a batch mostly share their dates (runAt = scheduledAt = now).
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = value.toISOString();
  }
  return lastIso;
}

/**
 * A handler's result as JSON text (`null` for none).
 * @throws InvalidArgumentError when it holds U+0000, which jsonb cannot store.
 */
export function resultJson(result: unknown): string | null {
  if (result === null || result === undefined) return null;
  const json = JSON.stringify(result);
  if (json === undefined) return null;
  if (hasNul(json)) throw new InvalidArgumentError('result', 'must not contain U+0000 (PostgreSQL cannot store it)');
  return json;
}
