/**
 * Glossary
 * - **job**: one unit of work kept by the store: a registered handler name,
 *   JSON arguments, a queue, a priority and a state.
 * - **schedule**: a rule (cron, every, at) that creates jobs; each occurrence
 *   is a **tick**, planned once cluster-wide under a (schedule, tick) key.
 * - **attempt**: one execution of a job. The counter grows when a node claims
 *   the job; acknowledgements carry it, so a late one is recognised as stale.
 * - **run**: the attempts of one job, from insert to a final state.
 * - **lease**: leadership of the cluster, held by one node at a time.
 */
import type { JsonObject, JsonScalar, JsonValue } from '../common/json.js';

/**
 * Where a job is in its life.
 * - `available`: waiting for `runAt` (a first run or a retry).
 * - `running`: claimed by a node.
 * - `completed`: the handler returned.
 * - `dead`: every attempt failed (a dead letter, kept for retry).
 * - `discarded`: stopped for good (DiscardJobError, or halted by middleware).
 * - `cancelled`: cancelled through the API.
 * @publicApi
 */
export type JobState = 'available' | 'running' | 'completed' | 'dead' | 'discarded' | 'cancelled';

/**
 * A state of a unique key's holder, as `unique.states` names it:
 * `'scheduled'` is an available job not yet due, `'available'` a due one.
 * @publicApi
 */
export type UniqueState = 'scheduled' | 'available' | 'running' | 'completed';

/**
 * The states `unique: true` (and the object form by default) blocks in.
 * @publicApi
 */
export const DEFAULT_UNIQUE_STATES: readonly UniqueState[] = ['scheduled', 'available', 'running'];

/**
 * States after which a job never runs again on its own.
 * @publicApi
 */
export const FINAL_STATES: readonly JobState[] = ['completed', 'dead', 'discarded', 'cancelled'];

/**
 * How many attempt errors a job keeps (the most recent ones); every store keeps the same.
 * @publicApi
 */
export const MAX_KEPT_ERRORS = 20;

/**
 * How a failure is treated (see `errors.classify`): `retryable` and `transient` retry, `degraded` retries slowly, `terminal` never retries.
 * @publicApi
 */
export type ErrorClass = 'retryable' | 'transient' | 'degraded' | 'terminal';

/**
 * One failed attempt, as kept on the job (message and stack truncated).
 * @publicApi
 */
export interface JobAttemptError {
  attempt: number;
  at: Date;
  /** Error class name, e.g. `TypeError`, `TimeoutError`. */
  name: string;
  message: string;
  stack?: string;
  /** `error` (thrown), `timeout`, `cancel`, `shutdown`, `halt` or `lease-lost`. */
  kind: string;
  /** The class the failure was given; absent on errors stored before classification and on non-failures (cancel, shutdown). */
  errorClass?: ErrorClass;
}

/**
 * A job as the store keeps it. Dates are `Date` objects; ids are strings.
 * Every job handed out is the caller's own copy, but treat its Dates as
 * read-only: two fields of equal value may share one `Date`.
 * @publicApi
 */
export interface Job<TArgs = JsonValue> {
  id: string;
  /** The registered handler that runs it. */
  name: string;
  /** The schedule that planned it, if any. */
  schedule: string | null;
  queue: string;
  args: TArgs;
  state: JobState;
  /** 0 (first) to 9. */
  priority: number;
  /** Attempts started so far (grows at claim). */
  attempt: number;
  maxAttempts: number;
  /** Milliseconds before an attempt is aborted; `null` means none. */
  timeout: number | null;
  /** When the job may next start. */
  runAt: Date;
  /** When it was meant to run: the tick, or the requested time. */
  scheduledAt: Date;
  /** The tick was planned late (see the schedule's misfire policy). */
  misfired: boolean;
  insertedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  heartbeatAt: Date | null;
  /** Node running (or last running) the job. */
  node: string | null;
  /** Grows with every claim, across all jobs of the store. */
  fencingToken: number;
  tickKey: string | null;
  uniqueKey: string | null;
  serialKey: string | null;
  /** Only this node may claim it (`@reboot` jobs), or `null`. */
  pinnedNode: string | null;
  tags: string[];
  meta: JsonObject;
  result: JsonValue | null;
  errors: JobAttemptError[];
  /** Trace context captured at enqueue (W3C ids), or `null`. */
  trace: JobTraceContext | null;
  /** The last progress an attempt reported (`ctx.progress`), kept after it ends; `null` before any. */
  progress: JobProgress | null;
  /** The `preemptible` its enqueue call set; `null`: the handler's (read when it runs). */
  preemptible: Preemptible | null;
}

/**
 * How a running job gives up its slot to a more urgent one on a queue with
 * `preemption`: `'suspend'` waits at its next `ctx.checkpoint()`; `'requeue'`
 * is aborted (reason `preempted`) and queued again without spending an
 * attempt; `false` is never preempted (see `JobOptions.preemptible`).
 * @publicApi
 */
export type Preemptible = 'suspend' | 'requeue' | false;

/**
 * What `ctx.progress` takes: a percentage (a number from 0 to 100) or a small
 * JSON object (at most {@link MAX_PROGRESS_BYTES} as JSON), e.g. `{ done: 40, of: 120 }`.
 * @publicApi
 */
export type JobProgress = number | JsonObject;

/**
 * The largest progress object, in bytes of its JSON: progress is a status, not a payload.
 * @publicApi
 */
export const MAX_PROGRESS_BYTES = 2_048;

/**
 * The span that enqueued a job; its attempts' spans are children of it.
 * @publicApi
 */
export interface JobTraceContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/**
 * What a producer gives the store to insert.
 * @publicApi
 */
export interface NewJob {
  name: string;
  schedule?: string | null;
  queue: string;
  args: JsonValue;
  priority: number;
  maxAttempts: number;
  timeout: number | null;
  runAt: Date;
  scheduledAt?: Date;
  misfired?: boolean;
  /** Unique forever among jobs with a tick key: one job per (schedule, tick). */
  tickKey?: string | null;
  /**
   * No other job holding this key may exist in {@link uniqueStates} (within
   * {@link uniquePeriod} of its insert); a job that no longer matches loses
   * the key to the new one. @default none
   */
  uniqueKey?: string | null;
  /**
   * With `uniqueKey`: which states of the key's holder block this insert;
   * for this job as the holder, `'completed'` keeps the key after it
   * completes. @default ['scheduled', 'available', 'running']
   */
  uniqueStates?: readonly UniqueState[] | null;
  /**
   * With `uniqueKey`: milliseconds after the holder's insert (by the
   * inserting call's clock) after which it no longer blocks. @default null (no limit)
   */
  uniquePeriod?: number | null;
  /** At most one `available` job per key, and none starts while another with it runs. */
  serialKey?: string | null;
  pinnedNode?: string | null;
  tags?: string[];
  meta?: JsonObject;
  trace?: JobTraceContext | null;
  /** `enqueue`'s `preemptible`. @default null (the handler's) */
  preemptible?: Preemptible | null;
}

/**
 * Outcome of inserting one job.
 * @publicApi
 */
export interface InsertResult {
  job: Job;
  /** `false` when a tick, unique or serial key matched an existing job (returned as `job`). */
  inserted: boolean;
  /** Which key conflicted, when not inserted. */
  conflict?: 'tick' | 'unique' | 'serial';
}

/**
 * A stored schedule created at runtime through `SchedulerService.insert`.
 * @publicApi
 */
export interface StoredSchedule {
  name: string;
  /** JSON form of the schedule and its job options (see `RuntimeScheduleInput`). */
  definition: JsonObject;
}

/**
 * Per-schedule state that outlives restarts.
 * @publicApi
 */
export interface ScheduleState {
  name: string;
  paused: boolean;
  /** Ticks up to this time have been planned. */
  plannedUntil: Date | null;
}

/**
 * Stored per-queue overrides (they win over module options on every node).
 * @publicApi
 */
export interface QueueState {
  name: string;
  paused: boolean;
  concurrency: number | null;
}

/**
 * Counts of one queue's jobs by state.
 * @publicApi
 */
export interface QueueCounts {
  queue: string;
  /** Available and due now. */
  available: number;
  /** Available, due in the future (includes retries waiting for backoff). */
  scheduled: number;
  running: number;
  completed: number;
  dead: number;
  discarded: number;
  cancelled: number;
}

/**
 * A condition on a job's args: the value at `path` (object keys, from the
 * top of the args) is `value`, of the same JSON type: `42` does not match
 * `"42"`, a path through an array or a missing key matches nothing.
 * @publicApi
 */
export interface JobArgsCondition {
  /** Object keys, at least one, none empty. */
  path: readonly string[];
  value: JsonScalar;
}

/**
 * A filter for listing jobs.
 * @publicApi
 */
export interface JobFilter {
  name?: string;
  /** Jobs whose handler name contains every one of these, ignoring the case of ASCII letters (as every store's `lower()` does). */
  nameContains?: readonly string[];
  /** Jobs whose args meet every condition. */
  args?: readonly JobArgsCondition[];
  /** Jobs carrying every one of these tags. */
  tags?: readonly string[];
  /** Matches jobs whose handler name *or* schedule name equals it. */
  nameOrSchedule?: string;
  queue?: string;
  states?: readonly JobState[];
  /** Only jobs finished before this time. */
  finishedBefore?: Date;
  limit?: number;
  /** `desc` (default) lists the newest first. */
  order?: 'asc' | 'desc';
  /**
   * Keyset paging: only jobs past this id in the list's order (older ones
   * for `desc`, newer ones for `asc`). Ids are numbers in decimal, growing
   * with insertion, in every store. @default none
   */
  afterId?: string;
}
