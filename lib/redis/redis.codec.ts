import type { JsonObject, JsonValue } from '../common/json.js';
import type { Job, JobAttemptError, JobProgress, JobState, JobTraceContext, NewJob } from '../store/job.types.js';
import type { CheckedJob } from '../store/job-input.validation.js';
import { claimableAtInsert } from '../store/new-job.js';
import { decodePreemptible, encodePreemptible } from '../store/preemptible.codec.js';
import { uniqueMask } from '../store/unique-states.js';
import { isErrorClass } from '../store/storable-output.js';

/**
 * A job hash as a script answers it: field, value, field, value…
 * @internal
 */
export type FlatHash = readonly string[];

/**
 * A job from its hash (see scripts/prelude.lua.ts): times are epoch ms,
 * absent fields `null` (tags, meta, misfired and the fencing token: their
 * defaults), JSON fields parsed (so the caller owns the copy).
 * @internal
 */
export function decodeJob(flat: FlatHash): Job {
  const h: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  return decodeFields(h);
}

/**
 * A job from its hash as one JSON object of strings (`cjson.encode` of the
 * script's table): what claims and inserts answer. Turning a table into
 * field, value, field… cost the server more per job than the claim's writes
 * (~40 values a job, each converted on both sides); one string is one.
 * @internal
 */
export function decodeJobJson(text: string): Job {
  return decodeFields(JSON.parse(text) as Record<string, string>);
}

function decodeFields(h: Record<string, string>): Job {
  const runAt = new Date(Number(h.runAt));
  return {
    id: h.id!,
    name: h.name!,
    schedule: h.schedule ?? null,
    queue: h.queue!,
    args: JSON.parse(h.args!) as JsonValue,
    state: h.state as JobState,
    priority: Number(h.priority),
    attempt: Number(h.attempt),
    maxAttempts: Number(h.maxAttempts),
    timeout: h.timeout === undefined ? null : Number(h.timeout),
    runAt,
    scheduledAt: new Date(Number(h.scheduledAt)),
    misfired: h.misfired === '1',
    insertedAt: new Date(Number(h.insertedAt)),
    startedAt: date(h.startedAt),
    finishedAt: date(h.finishedAt),
    heartbeatAt: date(h.heartbeatAt),
    node: h.node ?? null,
    fencingToken: h.fencingToken === undefined ? 0 : Number(h.fencingToken),
    tickKey: h.tickKey ?? null,
    uniqueKey: h.uniqueKey ?? null,
    serialKey: h.serialKey ?? null,
    pinnedNode: h.pinnedNode ?? null,
    tags: h.tags === undefined ? [] : (JSON.parse(h.tags) as string[]),
    meta: h.meta === undefined ? {} : (JSON.parse(h.meta) as JsonObject),
    result: h.result === undefined ? null : (JSON.parse(h.result) as JsonValue),
    errors: h.errors ? h.errors.split('\n').map(decodeError) : [],
    trace: h.trace === undefined ? null : (JSON.parse(h.trace) as JobTraceContext),
    progress: h.progress === undefined ? null : (JSON.parse(h.progress) as JobProgress),
    preemptible: decodePreemptible(h.preemptible),
  };
}

function date(value: string | undefined): Date | null {
  return value === undefined ? null : new Date(Number(value));
}

function decodeError(text: string): JobAttemptError {
  const raw = JSON.parse(text) as Omit<JobAttemptError, 'at'> & { at: number };
  return { ...raw, at: new Date(raw.at) };
}

/**
 * An attempt error as the store keeps it: JSON with `kind` after the texts
 * (the scripts find kinds by the text `"kind":"…"`), `at` in ms.
 * @internal
 */
export function encodeError(error: JobAttemptError): string {
  const { attempt, at, name, message, stack, kind, errorClass } = error;
  return JSON.stringify({
    attempt,
    at: at.getTime(),
    name,
    message,
    ...(stack === undefined ? {} : { stack }),
    kind,
    ...(isErrorClass(errorClass) ? { errorClass } : {}),
  });
}

/**
 * One job of an insert as the insert script reads it. Fields at their
 * defaults (`misfired` false, no tags, empty meta) are left out, and so out
 * of the job's hash, as is the fencing token until a claim sets one: every
 * claim reads and answers the whole hash, and the two empty JSON texts cost
 * the claim ~1.8 µs of server time a job.
 * Builds before 2026-12-06 read a hash without tags or meta as broken:
 * they must not share a Redis with this one (docs/redis.md, "Upgrades").
 * @internal
 */
export function encodeNewJob(input: NewJob, checked: CheckedJob, claimNow: Date | null): string {
  const entry: Record<string, unknown> = {
    name: input.name,
    queue: input.queue,
    args: checked.args,
    priority: input.priority,
    maxAttempts: input.maxAttempts,
    runAt: input.runAt.getTime(),
    scheduledAt: (input.scheduledAt ?? input.runAt).getTime(),
    claimable: claimNow !== null && claimableAtInsert(input, claimNow),
  };
  if (checked.meta !== '{}') entry.meta = checked.meta;
  if (input.tags !== undefined && input.tags.length > 0) entry.tags = JSON.stringify(input.tags);
  if (input.misfired) entry.misfired = true;
  if (input.timeout !== null && input.timeout !== undefined) entry.timeout = input.timeout;
  if (input.schedule != null) entry.schedule = input.schedule;
  if (input.tickKey != null) entry.tickKey = input.tickKey;
  if (input.serialKey != null) entry.serialKey = input.serialKey;
  if (input.pinnedNode != null) entry.pinnedNode = input.pinnedNode;
  const preemptible = encodePreemptible(input.preemptible);
  if (preemptible !== null) entry.preemptible = preemptible;
  if (input.trace) entry.trace = JSON.stringify({ traceId: input.trace.traceId, spanId: input.trace.spanId, traceFlags: input.trace.traceFlags });
  if (input.uniqueKey != null) {
    entry.uniqueKey = input.uniqueKey;
    entry.um = uniqueMask(input.uniqueStates);
    if (input.uniquePeriod != null) entry.up = input.uniquePeriod;
  }
  return JSON.stringify(entry);
}
