import { InvalidArgumentError, PayloadTooLargeError } from '../scheduler.errors.js';
import type { NewJob } from '../store/job.types.js';
import type { InsertBatch } from './sql/insert.sql.js';

const INT_MAX = 2_147_483_647;
/** JSON text with an escaped U+0000 that is not itself an escaped backslash: jsonb cannot store it. */
const JSON_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * The jobs of one insert as its statement reads them ({@link InsertBatch}),
 * each checked first so a bad job fails alone, with a typed error, before
 * any SQL runs (one bad job would otherwise fail the whole batch with a
 * database error). When the jobs share every field but `args` and
 * `uniqueKey`, those fields are checked and sent once.
 *
 * @throws PayloadTooLargeError when `args` serialise to more than `maxPayloadBytes`.
 * @throws InvalidArgumentError for values PostgreSQL cannot store (U+0000 in text,
 *   out-of-range integers, invalid dates).
 */
export function insertBatch(jobs: readonly NewJob[], maxPayloadBytes: number): InsertBatch {
  const first = jobs[0];
  if (first === undefined) return { shared: null, items: [] };
  if (!jobs.every((job) => job === first || sameFields(job, first))) {
    return { shared: null, items: jobs.map((job) => recordItem(job, maxPayloadBytes)) };
  }
  const shared = fields(first);
  const items = jobs.map((job) => {
    const args = argsJson(job.args, maxPayloadBytes);
    const key = textOrNull('uniqueKey', job.uniqueKey);
    return key === null ? `{"a":${args}}` : `{"a":${args},"u":${JSON.stringify(key)}}`;
  });
  return { shared: { ...shared, meta: metaJson(first.meta), trace: shared.trace === null ? null : JSON.stringify(shared.trace) }, items };
}

/** One job as every column of the statement's record, args spliced in as the JSON text already measured against the payload limit (no second serialisation). */
function recordItem(job: NewJob, maxPayloadBytes: number): string {
  const args = argsJson(job.args, maxPayloadBytes);
  const recordJson = JSON.stringify({ ...fields(job), unique_key: textOrNull('uniqueKey', job.uniqueKey) });
  if (hasNul(recordJson)) throw new InvalidArgumentError('meta', 'must not contain U+0000 (PostgreSQL cannot store it)');
  return `${recordJson.slice(0, -1)},"args":${args}}`;
}

/** A job's columns but args and unique key, checked. */
function fields(job: NewJob) {
  return {
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
    serial_key: textOrNull('serialKey', job.serialKey),
    pinned_node: textOrNull('pinnedNode', job.pinnedNode),
    tags: (job.tags ?? []).map((tag) => text('tags', tag)),
    meta: job.meta ?? {},
    trace: job.trace ? { traceId: job.trace.traceId, spanId: job.trace.spanId, traceFlags: job.trace.traceFlags } : null,
  };
}

/** Whether `job` has `first`'s fields but for args and unique key (cheap checks; anything unusual takes the per-job form, which validates it). */
function sameFields(job: NewJob, first: NewJob): boolean {
  return (
    job.name === first.name &&
    (job.schedule ?? null) === (first.schedule ?? null) &&
    job.queue === first.queue &&
    job.priority === first.priority &&
    job.maxAttempts === first.maxAttempts &&
    (job.timeout ?? null) === (first.timeout ?? null) &&
    sameTime(job.runAt, first.runAt) &&
    sameTime(job.scheduledAt ?? job.runAt, first.scheduledAt ?? first.runAt) &&
    (job.misfired ?? false) === (first.misfired ?? false) &&
    (job.tickKey ?? null) === (first.tickKey ?? null) &&
    (job.serialKey ?? null) === (first.serialKey ?? null) &&
    (job.pinnedNode ?? null) === (first.pinnedNode ?? null) &&
    sameTags(job.tags, first.tags) &&
    (job.meta === first.meta || metaJson(job.meta) === metaJson(first.meta)) &&
    sameTrace(job.trace, first.trace)
  );
}

function sameTime(a: Date, b: Date): boolean {
  return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
}

function sameTags(a: string[] | undefined, b: string[] | undefined): boolean {
  if (a === b) return true;
  const x = a ?? [];
  const y = b ?? [];
  return Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((tag, i) => tag === y[i]);
}

function sameTrace(a: NewJob['trace'], b: NewJob['trace']): boolean {
  if (a === b || (!a && !b)) return true;
  return !!a && !!b && a.traceId === b.traceId && a.spanId === b.spanId && a.traceFlags === b.traceFlags;
}

function metaJson(meta: NewJob['meta']): string {
  const json = JSON.stringify(meta ?? {});
  if (hasNul(json)) throw new InvalidArgumentError('meta', 'must not contain U+0000 (PostgreSQL cannot store it)');
  return json;
}

/** A job's arguments as JSON text, checked against the payload limit and for U+0000. */
function argsJson(args: NewJob['args'], maxPayloadBytes: number): string {
  const json = JSON.stringify(args ?? null);
  if (json === undefined) throw new InvalidArgumentError('args', 'must be JSON');
  // The length is a lower bound of the bytes (and at most a third of them): count only near the limit.
  if (json.length * 3 > maxPayloadBytes) {
    const bytes = Buffer.byteLength(json);
    if (bytes > maxPayloadBytes) throw new PayloadTooLargeError(bytes, maxPayloadBytes);
  }
  if (hasNul(json)) throw new InvalidArgumentError('args', 'must not contain U+0000 (PostgreSQL cannot store it)');
  return json;
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
