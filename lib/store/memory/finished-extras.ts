import type { JsonObject } from '../../common/json.js';
import type { ErrorClass, Job, JobAttemptError, JobProgress, JobTraceContext, Preemptible } from '../job.types.js';
import type { FinishedStrings } from './interner.js';
import { NO_META } from './job-records.js';

/**
 * The fields most jobs leave empty, kept apart so that those jobs share one
 * frozen object (nine fields fewer in each record).
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
  readonly progress: JobProgress | null;
  readonly preemptible: Preemptible | null;
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
  readonly errorClass?: ErrorClass;
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
  progress: null,
  preemptible: null,
  far: null,
});

/**
 * A finished job's rarely set fields: one shared frozen object when it has
 * none. Takes over the job's tags, meta and trace; `far` as {@link FinishedExtras.far}.
 * @internal
 */
export function extrasOf(job: Job, strings: FinishedStrings, near: boolean): FinishedExtras {
  const { schedule, tickKey, uniqueKey, serialKey, pinnedNode, tags, meta, errors, trace, progress, preemptible } = job;
  const keyless = schedule === null && tickKey === null && uniqueKey === null && serialKey === null && pinnedNode === null;
  if (keyless && near && tags.length === 0 && meta === NO_META && errors.length === 0 && trace === null && progress === null && preemptible === null) {
    return NO_EXTRAS;
  }
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
    progress,
    preemptible,
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

/**
 * A kept copy of an attempt error.
 * @internal
 */
export function keptError({ attempt, at, name, message, stack, kind, errorClass }: JobAttemptError): KeptError {
  const kept: KeptError =
    stack === undefined ? { attempt, atMs: at.getTime(), name, message, kind } : { attempt, atMs: at.getTime(), name, message, stack, kind };
  return Object.freeze(errorClass === undefined ? kept : { ...kept, errorClass });
}

/**
 * The error as a job carries it, keys in the live job's order (see
 * pushError): attempt, at, name, message, stack, kind, errorClass.
 * @internal
 */
export function attemptError({ attempt, atMs, name, message, stack, kind, errorClass }: KeptError): JobAttemptError {
  return { attempt, at: new Date(atMs), name, message, ...(stack === undefined ? {} : { stack }), kind, ...(errorClass === undefined ? {} : { errorClass }) };
}
