import type { ScheduleJson } from './schedule/builder/schedule-json.js';
import type { Duration } from './common/duration.js';
import type { JsonObject } from './common/json.js';
import type { DeadLetterClass, DeadLetterCounts } from './store/dead-letter-store.js';
import type { UniqueOption } from './decorators/job-options.js';
import type { Job, JobState, Preemptible } from './store/job.types.js';

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
   * Keeps this job unique (see `UniqueOption`): `true` by name and
   * arguments while a match is scheduled, available or running; a key
   * string; or `{ key?, by?, states?, period? }`. A duplicate inserts nothing:
   * the existing job comes back with `duplicate: true` (and `job:skip`, reason
   * `unique`, is emitted); `false` turns the handler's `unique` off.
   * @default the handler's `unique`
   */
  unique?: UniqueOption;
  /**
   * What this job does when a more urgent one needs its slot on a queue with
   * `preemption` (see `JobOptions.preemptible`); kept with the job, so it
   * holds on whichever node runs it. @default the handler's `preemptible`
   */
  preemptible?: Preemptible;
  tags?: string[];
  meta?: JsonObject;
  /**
   * A TypeORM `EntityManager` inside a transaction: the job commits or rolls
   * back with the caller's data, and no node runs it before the commit. The
   * PostgreSQL store (any manager of its database) and the SQLite store given
   * a `dataSource` (a manager of that DataSource) take it; the others reject
   * it with `InvalidArgumentError`. @default none
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
  /** A builder schedule's spec (`toSpec()`, as stored); `description` then reads as its `describe()`. */
  schedule?: ScheduleJson;
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
 * A live node of the cluster, in `nodes()`.
 * @publicApi
 */
export interface SchedulerNode {
  /** Its name (`nodeName`). */
  node: string;
  /** It holds the leader lease. */
  leader: boolean;
  /** It is the node answering. */
  self: boolean;
  /** Its last beat in the store's node registry; `null` when it has not beat yet or the store keeps no registry. */
  heartbeatAt: Date | null;
  /** When it started (its first beat); `null` when unknown. */
  startedAt: Date | null;
  /** The package version it runs; `null` when unknown. */
  version: string | null;
  /** The queues it runs, with their concurrency there. */
  queues: Record<string, number>;
  /** Its running jobs by queue (0 for a queue it runs idle), counted from the store's running jobs. */
  running: Record<string, number>;
}

/**
 * One queue in `queueStats()`.
 * @publicApi
 */
export interface QueueStats {
  queue: string;
  /** This node's concurrency (`null` when this node does not run the queue). */
  concurrency: number | null;
  /** The cluster-wide concurrency `scaleQueue` kept in the store, which every node running the queue applies; `null` when none was set. */
  storedConcurrency: number | null;
  paused: boolean;
  /** Running on this node (holding a slot; not counting suspended ones). */
  runningHere: number;
  /** Ids of the jobs holding a slot on this node. */
  runningJobs: string[];
  /** Whether this node's runner preempts (`queues.<name>.preemption`). */
  preemption: boolean;
  /** Jobs of this queue suspended at their checkpoint on this node, for more urgent ones. */
  preempted: number;
  /** Their ids. */
  preemptedJobs: string[];
  available: number;
  scheduled: number;
  running: number;
  completed: number;
  dead: number;
  discarded: number;
  cancelled: number;
}

/**
 * Which jobs `listJobs` returns, newest first unless `order: 'asc'`; absent fields match all.
 * @publicApi
 */
export interface JobListFilter {
  /** Jobs in one of these states. @default every state */
  states?: readonly JobState[];
  queue?: string;
  /** Jobs of this handler or planned by this schedule. */
  name?: string;
  /** At most this many, from 1 to 10000. @default 100 */
  limit?: number;
  /** Keyset paging: only jobs past this id in the list's order (pass the last id of the previous page). @default none */
  afterId?: string;
  /** @default 'desc' (newest first) */
  order?: 'asc' | 'desc';
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
 * Which dead letters `deadLetters.list` returns; absent fields match all.
 * @publicApi
 */
export interface DeadLetterFilter {
  name?: string;
  queue?: string;
  /** The class of the last error; `unclassified` for one without a class. */
  errorClass?: DeadLetterClass;
  /** At most this many, from 1 to 10000. @default 100 */
  limit?: number;
  /** Skips this many first (newest death first). @default 0 */
  offset?: number;
}

/**
 * Which dead letters `deadLetters.retryAll` puts back; absent fields match all.
 * @publicApi
 */
export interface DeadLetterRetryFilter {
  name?: string;
  queue?: string;
  errorClass?: DeadLetterClass;
  /** At most this many, oldest death first. @default 10000 */
  limit?: number;
}

/**
 * What `deadLetters.prune` deletes. `olderThan` alone: what died before
 * then; `keep` alone: all but the newest `keep`; together: what died before
 * then and is not among the newest `keep`. One of them is required.
 * @publicApi
 */
export interface DeadLetterPruneOptions {
  /** A duration before now (`'7d'`, ms) or a Date. @default no age limit */
  olderThan?: Duration | Date;
  /** Spares the newest this many (0: none). @default 0 */
  keep?: number;
  /** @deprecated The older name of `olderThan` with a Date. */
  before?: Date;
}

/**
 * What `deadLetters.stats()` returns, counted by the store.
 * @publicApi
 */
export type DeadLetterStats = DeadLetterCounts;
