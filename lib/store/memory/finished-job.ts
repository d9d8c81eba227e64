import type { JsonObject, JsonValue } from '../../common/json.js';
import type { Job, JobAttemptError, JobState, JobTraceContext } from '../job.types.js';
import { cloneJson } from '../new-job.js';
import type { JobRecord } from './claim-index.js';
import type { FinishedStrings } from './interner.js';
import { copyJob, NO_META } from './job-records.js';

/**
 * A job in a final state as the memory store keeps it (history), built by
 * {@link finishedJob} only: one object literal, so one hidden class, and one
 * allocation site, which V8 learns to allocate in the old generation (these
 * records outlive many collections; copying them out of the young one cost
 * a drain more than building them). No Dates (a V8 Date is ~90 B): times in
 * epoch milliseconds, the others as milliseconds before `finishedAtMs`,
 * small integers V8 keeps inside the object where an epoch-millisecond
 * number is a separate 16-byte box. 911 → 340 B of heap a completed job.
 * @internal
 */
export interface FinishedJob {
  readonly id: string;
  /** Insertion order (the numeric id), the tie-break of pruning order. */
  readonly seq: number;
  readonly name: string;
  readonly queue: string;
  readonly args: JsonValue;
  readonly state: JobState;
  readonly priority: number;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly timeout: number | null;
  readonly misfired: boolean;
  /** `NaN` for an invalid finish time (such a job is never pruned). */
  readonly finishedAtMs: number;
  /** `null` when `extras.far` holds the instants. */
  readonly runAtAgo: number | null;
  readonly scheduledAtAgo: number | null;
  readonly insertedAtAgo: number | null;
  /** `null` also for none. */
  readonly startedAtAgo: number | null;
  readonly heartbeatAtAgo: number | null;
  readonly node: string | null;
  readonly fencingToken: number;
  readonly result: JsonValue | null;
  readonly extras: FinishedExtras;
  /** Its index in `FinishedJobs`' list, or -1 when not listed. */
  slot: number;
}

/**
 * The fields most jobs leave empty, kept apart so that those jobs share one
 * frozen object (10 fields fewer in each record).
 * @internal
 */
export interface FinishedExtras {
  readonly schedule: string | null;
  readonly tickKey: string | null;
  readonly uniqueKey: string | null;
  readonly serialKey: string | null;
  readonly pinnedNode: string | null;
  readonly tags: readonly string[];
  readonly meta: JsonObject;
  readonly errors: readonly KeptError[];
  readonly trace: JobTraceContext | null;
  /** Epoch milliseconds of a job with an instant too far from its finish for a small integer (or no valid finish time). */
  readonly far: Instants | null;
}

/**
 * A kept attempt error of a finished job: its time as epoch milliseconds.
 * @internal
 */
export interface KeptError {
  readonly attempt: number;
  readonly atMs: number;
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly kind: string;
}

interface Instants {
  readonly runAt: number;
  readonly scheduledAt: number;
  readonly insertedAt: number;
  readonly startedAt: number | null;
  readonly heartbeatAt: number | null;
}

const NO_EXTRAS: FinishedExtras = Object.freeze({
  schedule: null,
  tickKey: null,
  uniqueKey: null,
  serialKey: null,
  pinnedNode: null,
  tags: Object.freeze([]),
  meta: NO_META,
  errors: Object.freeze([]),
  trace: null,
  far: null,
});

/**
 * The compact record of a job that has just reached a final state. Takes
 * over the job's args, tags, meta, result and trace (the store's own, never
 * handed out), so the live job must be dropped after.
 * @internal
 */
export function finishedJob(job: Job, seq: number, finishedAtMs: number, strings: FinishedStrings): FinishedJob {
  const runAt = ago(finishedAtMs, job.runAt);
  const scheduledAt = ago(finishedAtMs, job.scheduledAt);
  const insertedAt = ago(finishedAtMs, job.insertedAt);
  const startedAt = job.startedAt === null ? null : ago(finishedAtMs, job.startedAt);
  const heartbeatAt = job.heartbeatAt === null ? null : ago(finishedAtMs, job.heartbeatAt);
  // NaN: not a small integer. A field that held one boxed number would make V8 box it in every record.
  const near = runAt === runAt && scheduledAt === scheduledAt && insertedAt === insertedAt && startedAt === startedAt && heartbeatAt === heartbeatAt;
  return {
    id: job.id,
    seq,
    name: strings.names.of(job.name),
    queue: strings.queues.of(job.queue),
    args: job.args,
    state: job.state,
    priority: job.priority,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    timeout: job.timeout,
    misfired: job.misfired,
    finishedAtMs,
    runAtAgo: near ? runAt : null,
    scheduledAtAgo: near ? scheduledAt : null,
    insertedAtAgo: near ? insertedAt : null,
    startedAtAgo: near ? startedAt : null,
    heartbeatAtAgo: near ? heartbeatAt : null,
    node: strings.nodes.of(job.node),
    fencingToken: job.fencingToken,
    result: job.result,
    extras: extrasOf(job, strings, near),
    slot: -1,
  };
}

/**
 * A copy that shares nothing with the record, with fresh Dates; equal
 * instants share one Date exactly where `copyJob` shares them.
 * @internal
 */
export function jobOfFinished(record: FinishedJob): Job {
  const { extras: x, finishedAtMs: base } = record;
  const far = x.far;
  const runAtMs = far ? far.runAt : base - (record.runAtAgo as number);
  const scheduledAtMs = far ? far.scheduledAt : base - (record.scheduledAtAgo as number);
  const insertedAtMs = far ? far.insertedAt : base - (record.insertedAtAgo as number);
  const startedAtMs = far ? far.startedAt : record.startedAtAgo === null ? null : base - record.startedAtAgo;
  const heartbeatAtMs = far ? far.heartbeatAt : record.heartbeatAtAgo === null ? null : base - record.heartbeatAtAgo;
  const runAt = new Date(runAtMs);
  const scheduledAt = scheduledAtMs === runAtMs ? runAt : new Date(scheduledAtMs);
  const startedAt = startedAtMs === null ? null : new Date(startedAtMs);
  return {
    id: record.id,
    name: record.name,
    schedule: x.schedule,
    queue: record.queue,
    args: cloneJson(record.args),
    state: record.state,
    priority: record.priority,
    attempt: record.attempt,
    maxAttempts: record.maxAttempts,
    timeout: record.timeout,
    runAt,
    scheduledAt,
    misfired: record.misfired,
    insertedAt: insertedAtMs === scheduledAtMs ? scheduledAt : new Date(insertedAtMs),
    startedAt,
    finishedAt: new Date(base),
    heartbeatAt: heartbeatAtMs === null ? null : startedAt !== null && heartbeatAtMs === startedAtMs ? startedAt : new Date(heartbeatAtMs),
    node: record.node,
    fencingToken: record.fencingToken,
    tickKey: x.tickKey,
    uniqueKey: x.uniqueKey,
    serialKey: x.serialKey,
    pinnedNode: x.pinnedNode,
    tags: x.tags.length === 0 ? [] : [...x.tags],
    meta: cloneJson(x.meta),
    result: cloneJson(record.result),
    errors: x.errors.length === 0 ? [] : x.errors.map(attemptError),
    trace: x.trace ? { ...x.trace } : null,
  };
}

function extrasOf(job: Job, strings: FinishedStrings, near: boolean): FinishedExtras {
  const { schedule, tickKey, uniqueKey, serialKey, pinnedNode, tags, meta, errors, trace } = job;
  const keyless = schedule === null && tickKey === null && uniqueKey === null && serialKey === null && pinnedNode === null;
  if (keyless && near && tags.length === 0 && meta === NO_META && errors.length === 0 && trace === null) return NO_EXTRAS;
  return {
    schedule: strings.names.of(schedule),
    tickKey,
    uniqueKey,
    serialKey,
    pinnedNode: strings.nodes.of(pinnedNode),
    tags: tags.length === 0 ? NO_EXTRAS.tags : tags,
    meta,
    errors: errors.length === 0 ? NO_EXTRAS.errors : errors.map(keptError),
    trace,
    far: near
      ? null
      : {
          runAt: job.runAt.getTime(),
          scheduledAt: job.scheduledAt.getTime(),
          insertedAt: job.insertedAt.getTime(),
          startedAt: job.startedAt?.getTime() ?? null,
          heartbeatAt: job.heartbeatAt?.getTime() ?? null,
        },
  };
}

/** Milliseconds from `date` to `base` when an int32 (V8 keeps it unboxed), else NaN. A Date's value is an integer, so `base - ago` is exact. */
function ago(base: number, date: Date): number {
  const ms = base - date.getTime();
  return (ms | 0) === ms ? ms | 0 : NaN;
}

function keptError({ attempt, at, name, message, stack, kind }: JobAttemptError): KeptError {
  return Object.freeze(
    stack === undefined ? { attempt, atMs: at.getTime(), name, message, kind } : { attempt, atMs: at.getTime(), name, message, stack, kind },
  );
}

// Key order as the live job's errors (see pushError): attempt, at, name, message, stack, kind.
function attemptError({ attempt, atMs, name, message, stack, kind }: KeptError): JobAttemptError {
  return { attempt, at: new Date(atMs), name, message, ...(stack === undefined ? {} : { stack }), kind };
}

/**
 * A job as the memory store holds it: live (available or running) or finished.
 * @internal
 */
export type JobEntry = JobRecord | FinishedJob;

/**
 * Whether a stored job is kept as a {@link FinishedJob} (only live records have a `job`).
 * @internal
 */
export function isFinished(entry: JobEntry): entry is FinishedJob {
  return (entry as Partial<JobRecord>).job === undefined;
}

/**
 * A copy of a stored job for a caller, whichever form it is kept in.
 * @internal
 */
export function copyOfEntry(entry: JobEntry): Job {
  return isFinished(entry) ? jobOfFinished(entry) : copyJob(entry.job);
}
