import type { JsonValue } from '../../common/json.js';
import type { Job, JobState } from '../job.types.js';
import { cloneJson } from '../new-job.js';
import type { JobRecord } from './claim-index.js';
import { attemptError, extrasOf, type FinishedExtras } from './finished-extras.js';
import type { FinishedStrings } from './interner.js';
import { copyJob, copyProgress } from './job-records.js';

/**
 * A job in a final state as the memory store keeps it (history), built by
 * {@link finishedJob} only: one object literal, so one hidden class, and one
 * allocation site, which V8 learns to allocate in the old generation (these
 * records outlive many collections; as class instances, the young
 * generation's copying of them slowed a drain). No Dates (a V8 Date is
 * ~90 B): `finishedAtMs` in epoch milliseconds, the other instants as
 * milliseconds before it, small integers V8 keeps inside the object where an
 * epoch-millisecond number is a separate 16-byte box.
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
 * The compact record of a job that has just reached a final state. Takes
 * over the job's args, tags, meta, result and trace (the store's own, never
 * handed out), so the live job must be dropped after.
 * @internal
 */
export function finishedJob(job: Job, seq: number, finishedAtMs: number, strings: FinishedStrings): FinishedJob {
  // Equal instants are often one Date (see storedJob, and a claim's start): compared before reading the other.
  const runAt = ago(finishedAtMs, job.runAt);
  const scheduledAt = job.scheduledAt === job.runAt ? runAt : ago(finishedAtMs, job.scheduledAt);
  const insertedAt = job.insertedAt === job.runAt ? runAt : ago(finishedAtMs, job.insertedAt);
  const startedAt = job.startedAt === null ? null : ago(finishedAtMs, job.startedAt);
  const heartbeatAt = job.heartbeatAt === null ? null : job.heartbeatAt === job.startedAt ? startedAt : ago(finishedAtMs, job.heartbeatAt);
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
    progress: copyProgress(x.progress),
    preemptible: x.preemptible,
  };
}

/** Milliseconds from `date` to `base` when an int32 (V8 keeps it unboxed), else NaN. A Date's value is an integer, so `base - ago` is exact. */
function ago(base: number, date: Date): number {
  const ms = base - date.getTime();
  return (ms | 0) === ms ? ms | 0 : NaN;
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
