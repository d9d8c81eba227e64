import type { Clock, TimerHandle } from '../clock/clock.js';
import type { JsonObject } from '../common/json.js';
import { sanitizeJson } from '../common/storable-text.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import type { AttemptRef, JobStore } from '../store/job-store.js';
import { MAX_PROGRESS_BYTES, type Job, type JobProgress } from '../store/job.types.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import type { AbortReason } from '../scheduler.errors.js';
import { abortLost } from './lost-attempt.js';

/**
 * At most one progress write per attempt in this many ms: a handler may call
 * `ctx.progress` in a tight loop, and each write is a store round trip.
 * @internal
 */
export const PROGRESS_WRITE_INTERVAL = 1_000;

/**
 * `value` as progress is kept: a number from 0 to 100, or a copy of a plain
 * JSON object of at most {@link MAX_PROGRESS_BYTES} (text sanitised as
 * results are, so every store accepts it).
 * @throws InvalidArgumentError for anything else.
 * @internal
 */
export function checkProgress(value: unknown): JobProgress {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0 && value <= 100) return value;
    throw new InvalidArgumentError('progress', `a number must be from 0 to 100, got ${value}`);
  }
  const proto: unknown = typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidArgumentError(
      'progress',
      `must be a number from 0 to 100 or a plain JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  let json: string;
  try {
    json = sanitizeJson(JSON.stringify(value));
  } catch (error) {
    throw new InvalidArgumentError('progress', `is not JSON (${(error as Error).message})`);
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_PROGRESS_BYTES) throw new InvalidArgumentError('progress', `is ${bytes} bytes as JSON, over the ${MAX_PROGRESS_BYTES}-byte limit`);
  return JSON.parse(json) as JsonObject;
}

/**
 * What an attempt's progress writer uses.
 * @internal
 */
export interface AttemptProgressDeps {
  store: Pick<JobStore, 'saveProgress'>;
  clock: Clock;
  /** Ms between two writes of one attempt. @default PROGRESS_WRITE_INTERVAL */
  interval?: number;
  /** The store refused a write: the attempt no longer holds its job. */
  lost(): void;
  /** A write failed (the store is unreachable); the next report tries again. */
  failed(error: unknown): void;
}

/**
 * The store side of one attempt's `ctx.progress`: the first report is
 * written at once, later ones at most once per interval, the last one always
 * (a trailing write, and {@link flush} before the attempt is acknowledged,
 * so a finished job shows the progress it last reported).
 * @internal
 */
export class AttemptProgress {
  private pending: JobProgress | undefined;
  private lastWrite = -Infinity;
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly deps: AttemptProgressDeps,
    private readonly ref: AttemptRef,
  ) {}

  report(progress: JobProgress): void {
    if (this.closed) return;
    this.pending = progress;
    this.schedule();
  }

  /** Writes what is still pending, once any write in flight has landed; reports after this are not written. */
  async flush(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    if (this.pending !== undefined) await this.write();
  }

  private schedule(): void {
    if (this.inFlight !== null || this.timer !== null || this.closed) return;
    const wait = this.lastWrite + (this.deps.interval ?? PROGRESS_WRITE_INTERVAL) - this.deps.clock.now();
    if (wait <= 0) {
      void this.write();
      return;
    }
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      void this.write();
    }, wait);
  }

  private write(): Promise<void> {
    const progress = this.pending!;
    this.pending = undefined;
    this.lastWrite = this.deps.clock.now();
    let saved: Promise<boolean>;
    try {
      saved = this.deps.store.saveProgress(this.ref, progress);
    } catch (error) {
      saved = Promise.reject(error);
    }
    this.inFlight = saved
      .then(
        (held) => (held ? undefined : this.deps.lost()),
        (error: unknown) => this.deps.failed(error),
      )
      .finally(() => {
        this.inFlight = null;
        if (this.pending !== undefined) this.schedule();
      });
    return this.inFlight;
  }
}

/**
 * What the progress ports use of an attempt (the `Attempt`, seen from here).
 * @internal
 */
export interface ProgressAttempt {
  readonly job: Job<unknown>;
  readonly isSettled: boolean;
  readonly started: number;
  progress: AttemptProgress | null;
  abort(reason: AbortReason, detail?: string): void;
}

/**
 * The executor's side of `ctx.progress` (checked: a bad value throws to the
 * handler; emitted; written by the attempt's throttled writer) and of a
 * batch's checkpoint (written at once: a batch has no `ctx.progress` of its
 * own to race it).
 * @internal
 */
export function progressPorts(
  deps: { store: Pick<JobStore, 'saveProgress' | 'get'>; clock: Clock; events: SchedulerEvents },
  failed: (job: Job<unknown>, error: unknown) => void,
): { reportProgress(attempt: ProgressAttempt, value: unknown): void; saveProgress(attempt: ProgressAttempt, value: unknown): Promise<boolean> } {
  const { store, clock, events } = deps;
  return {
    reportProgress(attempt: ProgressAttempt, value: unknown): void {
      const progress = checkProgress(value);
      // Reported by a handler still running after its attempt ended: nothing is left to tell.
      if (attempt.isSettled) return;
      const job = attempt.job;
      job.progress = progress;
      attempt.progress ??= new AttemptProgress(
        { store, clock, lost: () => attempt.isSettled || void abortLost(store, attempt), failed: (error) => failed(job, error) },
        { id: job.id, attempt: job.attempt },
      );
      attempt.progress.report(progress);
      if (events.has('job:progress')) events.emit('job:progress', { job, progress, duration: clock.now() - attempt.started });
    },
    async saveProgress(attempt: ProgressAttempt, value: unknown): Promise<boolean> {
      const progress = checkProgress(value);
      attempt.job.progress = progress;
      return store.saveProgress({ id: attempt.job.id, attempt: attempt.job.attempt }, progress);
    },
  };
}
