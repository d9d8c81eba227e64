import type { JsonObject, JsonValue } from '../common/json.js';
import type { AbortReason } from '../scheduler.errors.js';

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
  /** Scratch space shared by middleware and the handler for this attempt. */
  readonly locals: Record<string, unknown>;
}
