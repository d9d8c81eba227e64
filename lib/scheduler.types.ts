import type { Duration } from './common/duration.js';
import type { JsonObject } from './common/json.js';
import type { Job, JobState } from './store/job.types.js';

/**
 * Options of `enqueue`, `enqueueAt` and `enqueueMany`. Unset options take the job's own.
 * @publicApi
 */
export interface EnqueueOptions {
  /** Run after this long. @default now */
  delay?: Duration;
  /** Run at this time (exclusive with `delay`). @default now */
  runAt?: Date;
  /** 0 (first) to 9. @default the job's priority */
  priority?: number;
  /** @default the job's queue */
  queue?: string;
  /** @default the job's maxRetries */
  maxRetries?: number;
  /** `false`: no timeout. @default the job's timeout */
  timeout?: Duration | false;
  /**
   * A key that no other available or running job may hold; `true` derives it
   * from the name and arguments. A conflict returns the existing job with
   * `duplicate: true` (and emits `job:skip`). @default none
   */
  unique?: string | boolean;
  tags?: string[];
  meta?: JsonObject;
  /**
   * A TypeORM `EntityManager` inside a transaction: the job commits or rolls
   * back with the caller's data (postgres store only). @default none
   */
  manager?: object;
}

/**
 * What `enqueue` returns: the stored job, and whether it was a duplicate of an existing one.
 * @publicApi
 */
export type EnqueuedJob<TArgs = unknown> = Job<TArgs> & { duplicate: boolean };

/**
 * A registered job or schedule as `all()` and `getJob()` show it.
 * @publicApi
 */
export interface JobInfo {
  name: string;
  /** The handler that runs it (its own name for a decorated job). */
  handler: string;
  /** `ClassName.method` or the worker class. */
  source: string;
  /** `static` (decorator), `runtime` (inserted), or `handler` (no schedule: runs what is enqueued). */
  origin: 'static' | 'runtime' | 'handler';
  kind: 'cron' | 'every' | 'at' | 'reboot' | 'queued';
  cron?: string | string[];
  zone?: string;
  every?: Duration;
  at?: string;
  /** Human-readable schedule, e.g. `cron "0 6 * * *" (Etc/UTC)`. */
  description: string;
  queue: string;
  priority: number;
  maxRetries: number;
  /** Milliseconds, or `null` for none. */
  timeout: number | null;
  overlap: string;
  tags: string[];
  paused: boolean;
  /** The next tick, or `null` (no schedule, or no tick left). */
  nextRunAt: Date | null;
}

/**
 * What `status(name)` returns.
 * @publicApi
 */
export interface JobStatus {
  name: string;
  paused: boolean;
  running: number;
  /** Available jobs, due or not. */
  queued: number;
  lastRun: Job | null;
  /** State of the last finished run. */
  lastOutcome: JobState | null;
  lastRunAt: Date | null;
  nextRunAt: Date | null;
}

/**
 * One queue in `queueStats()`.
 * @publicApi
 */
export interface QueueStats {
  queue: string;
  /** This node's concurrency (`null` when this node does not run the queue). */
  concurrency: number | null;
  paused: boolean;
  /** Running on this node. */
  runningHere: number;
  available: number;
  scheduled: number;
  running: number;
  completed: number;
  dead: number;
  discarded: number;
  cancelled: number;
}

/**
 * What `healthCheck()` returns.
 * @publicApi
 */
export interface HealthStatus {
  /** `up` when the store answers. */
  status: 'up' | 'down';
  node: string;
  leader: boolean;
  enabled: boolean;
  store: { status: 'up' | 'down'; error?: string };
  queues: { queue: string; paused: boolean; concurrency: number; running: number }[];
}

/**
 * A filter of dead letters.
 * @publicApi
 */
export interface DeadLetterFilter {
  name?: string;
  queue?: string;
  /** @default 100 */
  limit?: number;
}

/**
 * What `deadLetters.stats()` returns.
 * @publicApi
 */
export interface DeadLetterStats {
  total: number;
  byQueue: Record<string, number>;
  byName: Record<string, number>;
}
