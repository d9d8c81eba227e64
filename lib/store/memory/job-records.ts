import type { JsonValue } from '../../common/json.js';
import type { Job, JobAttemptError, NewJob } from '../job.types.js';

/** How many attempt errors a job keeps (the most recent ones). */
export const MAX_KEPT_ERRORS = 20;

/** A copy of a stored job that shares nothing with it. */
export function copyJob(job: Job): Job {
  // Field by field: several times faster than structuredClone on the whole job.
  return {
    ...job,
    args: cloneJson(job.args),
    runAt: new Date(job.runAt.getTime()),
    scheduledAt: new Date(job.scheduledAt.getTime()),
    insertedAt: new Date(job.insertedAt.getTime()),
    startedAt: copyDate(job.startedAt),
    finishedAt: copyDate(job.finishedAt),
    heartbeatAt: copyDate(job.heartbeatAt),
    tags: [...job.tags],
    meta: cloneJson(job.meta),
    result: cloneJson(job.result),
    errors: job.errors.map((error) => ({ ...error, at: new Date(error.at.getTime()) })),
    trace: job.trace ? { ...job.trace } : null,
  };
}

/** A deep copy of a JSON value (primitives are returned as they are). */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const copy: { [key: string]: JsonValue } = {};
  for (const [key, item] of Object.entries(value)) {
    // A JSON key "__proto__" must stay an own property, not set the prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: cloneJson(item), enumerable: true, writable: true, configurable: true });
    else copy[key] = cloneJson(item);
  }
  return copy as T;
}

function copyDate(date: Date | null): Date | null {
  return date ? new Date(date.getTime()) : null;
}

/** A stored job built from a producer's input, sharing nothing with it. */
export function buildJob(id: string, input: NewJob, insertedAt: Date): Job {
  const runAt = new Date(input.runAt.getTime());
  return {
    id,
    name: input.name,
    schedule: input.schedule ?? null,
    queue: input.queue,
    args: cloneJson(input.args),
    state: 'available',
    priority: input.priority,
    attempt: 0,
    maxAttempts: input.maxAttempts,
    timeout: input.timeout,
    runAt,
    scheduledAt: new Date((input.scheduledAt ?? runAt).getTime()),
    misfired: input.misfired ?? false,
    insertedAt,
    startedAt: null,
    finishedAt: null,
    heartbeatAt: null,
    node: null,
    fencingToken: 0,
    tickKey: input.tickKey ?? null,
    uniqueKey: input.uniqueKey ?? null,
    serialKey: input.serialKey ?? null,
    pinnedNode: input.pinnedNode ?? null,
    tags: [...(input.tags ?? [])],
    meta: cloneJson(input.meta ?? {}),
    result: null,
    errors: [],
    trace: input.trace ? { ...input.trace } : null,
  };
}

/** Appends a copy of the error, keeping only the last {@link MAX_KEPT_ERRORS}. */
export function pushError(job: Job, error: JobAttemptError): void {
  const { attempt, at, name, message, stack, kind } = error;
  job.errors.push({ attempt, at: new Date(at.getTime()), name, message, ...(stack === undefined ? {} : { stack }), kind });
  if (job.errors.length > MAX_KEPT_ERRORS) job.errors.splice(0, job.errors.length - MAX_KEPT_ERRORS);
}
