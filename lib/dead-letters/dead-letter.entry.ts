import type { JsonValue } from '../common/json.js';
import type { DeadLetterClass } from '../store/dead-letter-store.js';
import type { Job } from '../store/job.types.js';

/**
 * A dead letter: a job whose every attempt failed (state `dead`), with what
 * seed 003's entry holds on top of the job's own fields. Its errors are the
 * job's `errors` (the last 20 kept), each with its `errorClass`.
 * @publicApi
 */
export interface DeadLetter<TArgs = JsonValue> extends Job<TArgs> {
  /** The class of its last error; `unclassified` when that error has none (see {@link DeadLetterClass}). */
  errorClass: DeadLetterClass;
  /** Attempts made (the job's `attempt`). */
  attempts: number;
  /** When its first kept error happened (its death when it kept none). */
  firstFailedAt: Date;
  /** When it died (its `finishedAt`). */
  lastFailedAt: Date;
}

/**
 * A stored dead job as a {@link DeadLetter} (a new object; the job's fields are shared).
 * @internal
 */
export function toDeadLetter<TArgs>(job: Job<TArgs>): DeadLetter<TArgs> {
  const last = job.errors.at(-1);
  const diedAt = job.finishedAt ?? last?.at ?? job.insertedAt;
  return {
    ...job,
    errorClass: last?.errorClass ?? 'unclassified',
    attempts: job.attempt,
    firstFailedAt: job.errors[0]?.at ?? diedAt,
    lastFailedAt: diedAt,
  };
}
