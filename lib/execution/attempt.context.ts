import type { JsonObject } from '../common/json.js';
import type { AbortReason } from '../scheduler.errors.js';
import type { JobProgress } from '../store/job.types.js';
import type { JobContext } from './job-context.js';
import type { Attempt } from './job.attempt.js';

const ATTEMPT = Symbol('attempt');

/**
 * The attempt behind a handler's context (batches read their job and checkpoint through it).
 * @internal
 */
export function attemptOf(ctx: JobContext<unknown>): Attempt {
  const attempt = (ctx as Partial<AttemptContext>)[ATTEMPT];
  if (!attempt) throw new TypeError('not a job context of this scheduler');
  return attempt;
}

/**
 * The handler's view of an {@link Attempt}.
 * @internal
 */
export class AttemptContext implements JobContext<unknown> {
  readonly id: string;
  readonly name: string;
  readonly schedule: string | null;
  readonly queue: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly args: unknown;
  readonly scheduledAt: Date;
  readonly misfired: boolean;
  readonly meta: JsonObject;
  readonly tags: readonly string[];
  readonly fencingToken: number;
  readonly locals: Record<string, unknown> = {};
  // Symbol-keyed, so JSON of a context shows only its data; a property (not a
  // #private field) because step contexts are made with Object.create(ctx).
  readonly [ATTEMPT]: Attempt;

  constructor(attempt: Attempt) {
    const job = attempt.job;
    this[ATTEMPT] = attempt;
    this.id = job.id;
    this.name = job.name;
    this.schedule = job.schedule;
    this.queue = job.queue;
    this.attempt = job.attempt;
    this.maxAttempts = job.maxAttempts;
    this.args = job.args;
    this.scheduledAt = job.scheduledAt;
    this.misfired = job.misfired;
    this.meta = job.meta;
    this.tags = job.tags;
    this.fencingToken = job.fencingToken;
  }

  get signal(): AbortSignal {
    return this[ATTEMPT].signal();
  }

  get abortReason(): AbortReason | undefined {
    return this[ATTEMPT].reason;
  }

  get preempted(): boolean {
    return this[ATTEMPT].preempted;
  }

  /** Waits while the attempt is preempted (see {@link JobContext.checkpoint}); bound, like `heartbeat`. */
  get checkpoint(): () => Promise<void> {
    const attempt = this[ATTEMPT];
    return () => attempt.checkpoint();
  }

  /** Reports progress (see {@link JobContext.progress}); bound, like `heartbeat`. */
  get progress(): (value: JobProgress) => void {
    const attempt = this[ATTEMPT];
    return (value) => attempt.ports.reportProgress(attempt, value);
  }

  /**
   * Tells the store the attempt is alive; a lost lease aborts it. A getter
   * handing out a function bound to this attempt, so that
   * `const { heartbeat } = ctx` works as with a plain object.
   */
  get heartbeat(): () => Promise<void> {
    const attempt = this[ATTEMPT];
    return async () => {
      if (!(await attempt.ports.beat(attempt.job))) await attempt.ports.lost(attempt);
    };
  }
}
