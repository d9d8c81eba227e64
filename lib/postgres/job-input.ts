import { checkNewJobs, type CheckedJob } from '../store/job-input.validation.js';
import type { NewJob } from '../store/job.types.js';
import { encodePreemptible } from '../store/preemptible.codec.js';
import { uniqueMask } from '../store/unique-states.js';
import type { InsertBatch } from './sql/insert.sql.js';

/**
 * The jobs of one insert as its statement reads them ({@link InsertBatch}),
 * each checked first by the shared `checkNewJobs` (the memory store runs the
 * same checks), so a bad job fails the call with a typed error before any
 * SQL runs (one bad job would otherwise fail the whole batch with a
 * database error). When the jobs share every field but `args` and
 * `uniqueKey`, those fields are sent once.
 *
 * @throws PayloadTooLargeError when `args` or `meta` serialise to more than `maxPayloadBytes`.
 * @throws InvalidArgumentError for anything the store cannot keep (see `checkNewJobs`).
 * @internal
 */
export function insertBatch(jobs: readonly NewJob[], maxPayloadBytes: number, now?: Date): InsertBatch {
  const checked = checkNewJobs(jobs, maxPayloadBytes);
  const first = jobs[0];
  if (first === undefined) return { shared: null, items: [] };
  // When unique keys are judged (and a new key's period starts): the caller's clock, else the database's.
  const since = now === undefined ? 'null' : `"${now.toISOString()}"`;
  if (!jobs.every((job, i) => job === first || sameFields(job, first, checked[i]!, checked[0]!))) {
    return { shared: null, items: jobs.map((job, i) => recordItem(job, checked[i]!, since)) };
  }
  const shared = fields(first);
  const items = jobs.map((job, i) => {
    const args = checked[i]!.args;
    const key = job.uniqueKey ?? null;
    return key === null ? `{"a":${args}}` : `{"a":${args},"u":${JSON.stringify(key)},${uniqueSpec(job, since, '"m":', '"p":', '"t":')}}`;
  });
  return { shared: { ...shared, meta: checked[0]!.meta, trace: shared.trace === null ? null : JSON.stringify(shared.trace) }, items };
}

/** One job as every column of the statement's record, unique key, meta and args spliced in (args and meta as the JSON text already checked: no second serialisation). */
function recordItem(job: NewJob, checked: CheckedJob, since: string): string {
  const recordJson = JSON.stringify(fields(job));
  const unique = job.uniqueKey == null ? '' : `,${uniqueSpec(job, since, '"unique_states":', '"unique_period":', '"unique_since":')}`;
  return `${recordJson.slice(0, -1)},"unique_key":${JSON.stringify(job.uniqueKey ?? null)}${unique},"meta":${checked.meta},"args":${checked.args}}`;
}

/** A unique job's states mask, period and time as JSON members under the given names. */
function uniqueSpec(job: NewJob, since: string, states: string, period: string, at: string): string {
  return `${states}${uniqueMask(job.uniqueStates)},${period}${job.uniquePeriod ?? 'null'},${at}${since}`;
}

/**
 * A job's columns but args and unique key (already checked), with a `meta`
 * slot for {@link insertBatch} to fill (left out of a record's JSON). Every
 * key is in this one literal on purpose: an object spread followed by a key
 * the source lacks (`{ ...fields, meta }`) cost ~2.5 µs a call on Node 20
 * against ~0.05 µs when the key is only overwritten, and built a new hidden
 * class each time, which the major collector then had to sweep.
 */
function fields(job: NewJob) {
  return {
    name: job.name,
    schedule: job.schedule ?? null,
    queue: job.queue,
    priority: job.priority,
    max_attempts: job.maxAttempts,
    timeout_ms: job.timeout ?? null,
    run_at: date(job.runAt),
    scheduled_at: date(job.scheduledAt ?? job.runAt),
    misfired: job.misfired ?? false,
    tick_key: job.tickKey ?? null,
    serial_key: job.serialKey ?? null,
    pinned_node: job.pinnedNode ?? null,
    tags: job.tags ?? [],
    meta: undefined as string | undefined,
    trace: job.trace ? { traceId: job.trace.traceId, spanId: job.trace.spanId, traceFlags: job.trace.traceFlags } : null,
    preemptible: encodePreemptible(job.preemptible),
  };
}

/** Whether `job` has `first`'s fields but for args and unique key (cheap checks; anything unusual takes the per-job form). */
function sameFields(job: NewJob, first: NewJob, checked: CheckedJob, firstChecked: CheckedJob): boolean {
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
    checked.meta === firstChecked.meta &&
    sameTrace(job.trace, first.trace) &&
    (job.preemptible ?? null) === (first.preemptible ?? null)
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

let lastMs = NaN;
let lastIso = '';
function date(value: Date): string {
  const ms = value.getTime();
  // The jobs of a batch mostly share their dates (runAt = scheduledAt = now).
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = value.toISOString();
  }
  return lastIso;
}
