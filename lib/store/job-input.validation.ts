import { unstorableText } from '../common/storable-text.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import type { NewJob } from './job.types.js';
import { storableJson } from './json-value.validation.js';
import { checkUniqueSpec } from './unique-states.js';
import { shown } from '../common/shown.js';

/**
 * What every store accepts in a job, checked by `checkNewJobs` before
 * any store keeps anything, so the memory store is exactly as strict as
 * PostgreSQL (a test that passes on one passes on the other).
 * @publicApi
 */
export const JOB_INPUT_LIMITS = {
  /** Longest job, schedule or queue name, in characters (UTF-16 units). @default 200 */
  nameLength: 200,
  /**
   * Longest unique, tick or serial key (and pinned node name), in bytes of
   * UTF-8 (for ASCII, characters). Keys are indexed, and a PostgreSQL btree
   * entry holds at most 2,704 bytes; 1,000 leaves room and is far more than a
   * key needs (hash a longer one yourself). @default 1000
   */
  keyBytes: 1_000,
  /** Most tags on one job. @default 50 */
  tags: 50,
  /** Longest tag, in characters (UTF-16 units). @default 200 */
  tagLength: 200,
  /** Earliest `runAt` (and schedule `at`): 0001-01-01T00:00:00.000Z. */
  minDate: new Date('0001-01-01T00:00:00.000Z'),
  /** Latest `runAt` (and schedule `at`): 9999-12-31T23:59:59.999Z (ISO 8601 and PostgreSQL's text form have four-digit years). */
  maxDate: new Date('9999-12-31T23:59:59.999Z'),
} as const;

/**
 * Largest JSON payload (`args`, `meta`, a result) a store keeps unless told otherwise: 1 MiB.
 * @publicApi
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

/**
 * The highest `store.maxPayloadBytes` accepted: 16 MiB. Many payloads travel
 * in one statement (a batch of inserts or completions), and PostgreSQL caps a
 * message at 1 GB; a payload this large belongs in a blob store, referenced
 * from the job's arguments.
 * @publicApi
 */
export const MAX_PAYLOAD_BYTES_CEILING = 16 * 1_048_576;

/**
 * A `maxPayloadBytes` option checked (an integer from 1 to
 * {@link MAX_PAYLOAD_BYTES_CEILING}), or the default when it is absent.
 * `fail` throws the caller's error type.
 * @internal
 */
export function resolveMaxPayloadBytes(value: unknown, fail: (detail: string) => never): number {
  if (value === undefined) return DEFAULT_MAX_PAYLOAD_BYTES;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_PAYLOAD_BYTES_CEILING) {
    return fail(`must be an integer from 1 to ${MAX_PAYLOAD_BYTES_CEILING} (16 MiB), got ${String(value)}`);
  }
  return value as number;
}

const INT_MAX = 2_147_483_647;
const MIN_MS = JOB_INPUT_LIMITS.minDate.getTime();
const MAX_MS = JOB_INPUT_LIMITS.maxDate.getTime();

/**
 * A job's `args` and `meta` as checked JSON text, in the order of the jobs given.
 * @publicApi
 */
export interface CheckedJob {
  args: string;
  meta: string;
}

/**
 * Checks jobs before a store keeps them (a store calls it first in
 * `insert`; nothing is stored when it throws). One bad job refuses the
 * whole call: enqueueMany stores all of its jobs or none.
 *
 * @throws InvalidArgumentError naming the field and the limit (and, in a
 *   batch, which job): a name, queue, key or tag that is not a string, is
 *   too long or holds U+0000 or a lone surrogate; args or meta that are not
 *   JSON (BigInt, cycles) or hold U+0000 or a lone surrogate; a date that
 *   is invalid or outside years 1 to 9999; a priority outside 0-9.
 * @throws PayloadTooLargeError when `args` or `meta` is over `maxPayloadBytes`.
 * @publicApi
 */
export function checkNewJobs(jobs: readonly NewJob[], maxPayloadBytes: number): CheckedJob[] {
  const checked: CheckedJob[] = new Array(jobs.length);
  // Jobs of one call mostly share their meta object: check (and serialise) it once.
  let lastMeta: unknown = undefined;
  let lastMetaJson = '';
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    const where = jobs.length > 1 ? ` (job ${i + 1} of ${jobs.length})` : '';
    try {
      if (!job || typeof job !== 'object') throw new InvalidArgumentError('job', 'must be an object');
      // The jobs of one enqueueMany share their fields (the same strings, tags and Dates): checked once.
      const previous = i > 0 ? jobs[i - 1]! : undefined;
      if (previous !== undefined && sharesFields(job, previous)) checkKey('uniqueKey', job.uniqueKey);
      else checkFields(job);
      const args = storableJson('args', job.args === undefined ? null : job.args, maxPayloadBytes);
      const meta = job.meta ?? {};
      if (i === 0 || meta !== lastMeta) {
        if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new InvalidArgumentError('meta', 'must be a JSON object');
        lastMetaJson = storableJson('meta', meta, maxPayloadBytes);
        lastMeta = meta;
      }
      checked[i] = { args, meta: lastMetaJson };
    } catch (error) {
      if (where && error instanceof InvalidArgumentError) throw new InvalidArgumentError(error.argument, `${error.detail}${where}`);
      throw error;
    }
  }
  return checked;
}

/**
 * Checks a date as a store keeps it (`runAt`, a schedule's `at`). @throws InvalidArgumentError
 * @internal
 */
export function checkDate(argument: string, value: unknown): asserts value is Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new InvalidArgumentError(argument, 'must be a valid Date');
  const ms = value.getTime();
  if (ms < MIN_MS || ms > MAX_MS) {
    throw new InvalidArgumentError(
      argument,
      `must be between years 1 and 9999 (${JOB_INPUT_LIMITS.minDate.toISOString()} to ${JOB_INPUT_LIMITS.maxDate.toISOString()}), got ${value.toISOString()}`,
    );
  }
}

/**
 * Checks a job's tags. @throws InvalidArgumentError
 * @internal
 */
export function checkTags(tags: unknown): void {
  if (tags === undefined) return;
  if (!Array.isArray(tags)) throw new InvalidArgumentError('tags', 'must be an array of strings');
  if (tags.length > JOB_INPUT_LIMITS.tags) throw new InvalidArgumentError('tags', `must be at most ${JOB_INPUT_LIMITS.tags} tags, got ${tags.length}`);
  for (const tag of tags) checkText('tags', tag, JOB_INPUT_LIMITS.tagLength);
}

/** Whether `job` holds the very values of `previous` (already checked), but for its unique key. */
function sharesFields(job: NewJob, previous: NewJob): boolean {
  return (
    job.name === previous.name &&
    job.queue === previous.queue &&
    job.schedule === previous.schedule &&
    job.tickKey === previous.tickKey &&
    job.uniqueStates === previous.uniqueStates &&
    job.uniquePeriod === previous.uniquePeriod &&
    job.serialKey === previous.serialKey &&
    job.pinnedNode === previous.pinnedNode &&
    job.tags === previous.tags &&
    job.priority === previous.priority &&
    job.maxAttempts === previous.maxAttempts &&
    job.timeout === previous.timeout &&
    job.runAt === previous.runAt &&
    job.scheduledAt === previous.scheduledAt &&
    job.preemptible === previous.preemptible
  );
}

function checkFields(job: NewJob): void {
  checkText('name', job.name, JOB_INPUT_LIMITS.nameLength);
  checkText('queue', job.queue, JOB_INPUT_LIMITS.nameLength);
  if (job.schedule !== null && job.schedule !== undefined) checkText('schedule', job.schedule, JOB_INPUT_LIMITS.nameLength);
  checkKey('tickKey', job.tickKey);
  checkKey('uniqueKey', job.uniqueKey);
  checkUniqueSpec(job.uniqueStates, job.uniquePeriod, (argument, detail) => {
    throw new InvalidArgumentError(argument, detail);
  });
  checkKey('serialKey', job.serialKey);
  checkKey('pinnedNode', job.pinnedNode);
  checkTags(job.tags);
  integer('priority', job.priority, 0, 9);
  integer('maxAttempts', job.maxAttempts, 0, INT_MAX);
  if (job.timeout !== null && job.timeout !== undefined) integer('timeout', job.timeout, 0, INT_MAX);
  checkDate('runAt', job.runAt);
  if (job.scheduledAt !== undefined) checkDate('scheduledAt', job.scheduledAt);
  const p = job.preemptible;
  if (p !== undefined && p !== null && p !== 'suspend' && p !== 'requeue' && p !== false) {
    throw new InvalidArgumentError('preemptible', `must be 'suspend', 'requeue' or false, got ${shown(p)}`);
  }
}

/**
 * A job, schedule or queue name as every store keeps it: a non-empty string of
 * at most `JOB_INPUT_LIMITS.nameLength` characters, without U+0000 or a lone
 * surrogate. For calls that store a name outside a job (a queue's state, a
 * runtime schedule's queue). @throws InvalidArgumentError
 * @internal
 */
export function checkStoredName(argument: string, value: unknown): asserts value is string {
  checkText(argument, value, JOB_INPUT_LIMITS.nameLength);
}

/** A non-empty string of at most `maxLength` UTF-16 units that a store can keep. */
function checkText(argument: string, value: unknown, maxLength: number): void {
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(argument, 'must be a non-empty string');
  if (value.length > maxLength) throw new InvalidArgumentError(argument, `must be at most ${maxLength} characters, got ${value.length}`);
  const problem = unstorableText(value);
  if (problem) throw new InvalidArgumentError(argument, `must not contain ${problem} (the store cannot keep it)`);
}

/**
 * A key: refused rather than cleaned, since two keys that differ only in a
 * lone surrogate would collide once `pg` replaced it with U+FFFD.
 */
function checkKey(argument: string, value: string | null | undefined): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(argument, 'must be a non-empty string');
  // At most 3 bytes of UTF-8 per UTF-16 unit: count only near the limit.
  if (value.length * 3 > JOB_INPUT_LIMITS.keyBytes) {
    const bytes = Buffer.byteLength(value);
    if (bytes > JOB_INPUT_LIMITS.keyBytes)
      throw new InvalidArgumentError(argument, `must be at most ${JOB_INPUT_LIMITS.keyBytes} bytes of UTF-8, got ${bytes}`);
  }
  const problem = unstorableText(value);
  if (problem) throw new InvalidArgumentError(argument, `must not contain ${problem} (the store cannot keep it)`);
}

function integer(argument: string, value: unknown, min: number, max: number): void {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new InvalidArgumentError(argument, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

/**
 * A job id as every store writes them (digits): anything else is bad input,
 * refused as such rather than answered as "no such job".
 * @throws InvalidArgumentError
 * @internal
 */
export function checkJobId(id: unknown, argument = 'id'): string {
  if (typeof id !== 'string' || !/^\d{1,19}$/.test(id)) throw new InvalidArgumentError(argument, 'must be a job id (digits)');
  return id;
}
