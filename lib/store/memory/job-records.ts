import type { Job, JobAttemptError } from '../job.types.js';
import { cloneJson } from '../new-job.js';

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
    tags: job.tags.length === 0 ? [] : [...job.tags],
    meta: cloneJson(job.meta),
    result: cloneJson(job.result),
    errors: job.errors.length === 0 ? [] : job.errors.map((error) => ({ ...error, at: new Date(error.at.getTime()) })),
    trace: job.trace ? { ...job.trace } : null,
  };
}

function copyDate(date: Date | null): Date | null {
  return date ? new Date(date.getTime()) : null;
}

/** Appends a copy of the error, keeping only the last {@link MAX_KEPT_ERRORS}. */
export function pushError(job: Job, error: JobAttemptError): void {
  const { attempt, at, name, message, stack, kind } = error;
  job.errors.push({ attempt, at: new Date(at.getTime()), name, message, ...(stack === undefined ? {} : { stack }), kind });
  if (job.errors.length > MAX_KEPT_ERRORS) job.errors.splice(0, job.errors.length - MAX_KEPT_ERRORS);
}
