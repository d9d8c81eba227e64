import type { JsonObject, JsonValue } from '../common/json.js';
import type { AbortReason } from '../scheduler.errors.js';
import type { JobProgress } from '../store/job.types.js';

/**
 * What a handler receives for one attempt of a job.
 * @publicApi
 */
export interface JobContext<TArgs = JsonValue> {
  /** The job's id in the store. */
  readonly id: string;
  /** The registered job name. */
  readonly name: string;
  /** The schedule that planned the job, if any. */
  readonly schedule: string | null;
  readonly queue: string;
  /** This attempt, 1-based. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** The job's arguments (JSON). */
  readonly args: TArgs;
  /** When the job was meant to run (the tick, or the requested time). */
  readonly scheduledAt: Date;
  /** Planned after missed ticks (see the `misfire` option). */
  readonly misfired: boolean;
  readonly meta: JsonObject;
  readonly tags: readonly string[];
  /**
   * Aborted on timeout, cancel, shutdown or lease loss; `signal.reason` is a
   * `JobAbortedError` whose `reason` says which (see also {@link abortReason}).
   */
  readonly signal: AbortSignal;
  /** Why `signal` was aborted, or `undefined`. */
  readonly abortReason: AbortReason | undefined;
  /** Grows with every attempt of every job: pass it to systems that must reject stale writers. */
  readonly fencingToken: number;
  /** Records that this attempt is alive (automatic heartbeats also run). */
  heartbeat(): Promise<void>;
  /**
   * True once a more urgent job has asked for this attempt's slot (a queue
   * with `preemption`): reach `checkpoint()` soon to give it up.
   */
  readonly preempted: boolean;
  /**
   * A safe point to pause: resolves at once unless the attempt is
   * `preempted`; then its slot goes to the more urgent job, and this
   * resolves when a slot frees for it again (before newer jobs of its
   * priority), or at an abort (check `signal` after it). Cheap: call it in
   * loops.
   */
  checkpoint(): Promise<void>;
  /**
   * Reports how far the job has got: a number from 0 to 100, or a small JSON
   * object (at most 2 KB as JSON), e.g. `{ done: 40, of: 120 }`. Emitted at
   * once as `job:progress`; kept by the store at most once a second per
   * attempt (the last report always, before the attempt ends), and shown as
   * the `progress` of the jobs `runningJobs()` and `status()` return.
   * @throws InvalidArgumentError for anything else (nothing is recorded).
   */
  progress(value: JobProgress): void;
  /** Scratch space shared by middleware and the handler for this attempt. */
  readonly locals: Record<string, unknown>;
}
