import type { CircuitBreakerStore } from '../breakers/circuit-breaker.types.js';
import type { JsonValue } from '../common/json.js';
import type { DeadLetterStore } from './dead-letter-store.js';
import type { NodeRegistry } from './node-registry.js';
// oxlint-disable-next-line no-unused-vars -- WorkflowRunState is named by a {@link} below
import type { NewWorkflowRun, WorkflowRun, WorkflowRunFilter, WorkflowRunState } from './workflow-run.types.js';
import type { RateLimitKind } from '../rate-limit/rate-limit.options.js';
import type { RateLimitSpec, RateLimitStatus } from '../rate-limit/token-bucket.js';
import type {
  InsertResult,
  Job,
  JobAttemptError,
  JobFilter,
  JobProgress,
  JobState,
  NewJob,
  QueueCounts,
  QueueState,
  ScheduleState,
  StoredSchedule,
} from './job.types.js';

/**
 * Rescue backs off: a job rescued for the first time is due at once (its node
 * died), one rescued again waits `RESCUE_BACKOFF_BASE × 2^(rescues before − 1)`,
 * at most {@link RESCUE_BACKOFF_MAX}, so a job that keeps killing its node
 * does not take down the next one at once (and spends an attempt each time).
 * @publicApi
 */
export const RESCUE_BACKOFF_BASE = 10_000;
/**
 * The longest a rescued job waits before it is due again, in ms.
 * @publicApi
 */
export const RESCUE_BACKOFF_MAX = 600_000;
/**
 * The delay of a rescue (ms), given how many times the job was rescued before.
 * @publicApi
 */
export function rescueBackoff(rescuesBefore: number): number {
  return rescuesBefore === 0 ? 0 : Math.min(RESCUE_BACKOFF_BASE * 2 ** (rescuesBefore - 1), RESCUE_BACKOFF_MAX);
}

/**
 * How many shutdown hand-backs are free: a job interrupted by a shutdown on
 * its last attempt gets one more, at most this many times; beyond that an
 * interrupted attempt counts like any other, so a job that is handed back at
 * every shutdown (a handler longer than any grace period) still ends.
 * @publicApi
 */
export const FREE_HANDBACKS = 3;

/**
 * Options of {@link JobStore.insert}.
 * @publicApi
 */
export interface InsertOptions {
  /** A TypeORM `EntityManager` whose transaction the insert joins. */
  transaction?: object;
  /**
   * The time unique keys are judged at: a unique holder's insert time (the
   * start of its `uniquePeriod`), and whether an available holder is
   * `scheduled` (not yet due) or `available`. @default the current time
   */
  now?: Date;
  /**
   * Inserts the jobs this node can start at once already claimed by it, as a
   * claim at `now` would leave them (running, attempt 1, a new fencing
   * token), so an idle node runs what it enqueues without waiting for a
   * notification and a claim. Only jobs without a serial key, unpinned, due
   * at `now` and whose name is not paused qualify (tick and unique keys hold
   * as for any insert), and a store may still insert those as usual: the
   * returned state tells. Never combined with `transaction` (the job would
   * run before it commits).
   */
  claimFor?: { node: string; now: Date };
  /**
   * Lets a store that keeps offers ({@link JobStore.push}) insert the jobs
   * already claimed by another node that offered idle slots for their queue,
   * and tell that node (a `push` notification), so the job starts there
   * without a claim. `from` is the inserting node (never a target). Only when
   * every job is due at `now`, unpinned, without a serial key, of one queue,
   * and no due job of that queue waits (PostgreSQL: at most 100 jobs); otherwise (and in a store without
   * offers) the jobs are inserted as usual: the returned state tells. Never
   * combined with `transaction` or `claimFor`.
   */
  push?: { from: string; now: Date };
}

/**
 * Push to idle nodes: a node whose runner found its queue empty offers its
 * free slots; an insert elsewhere may then hand new jobs straight to it
 * (see {@link InsertOptions.push}). Offers are hints: a stale one costs at
 * most a job buffered behind others, and one from a node that died expires.
 * @publicApi
 */
export interface JobPush {
  /**
   * Offers `slots` free slots of `queue` on `node`; 0 withdraws the offer.
   * Resolves to the slots now on offer: 0 when the node cannot take pushes
   * at the moment (e.g. it does not hear notifications).
   */
  offer(queue: string, node: string, slots: number): Promise<number>;
  /**
   * The jobs of a push (`claim`, `ids`) that still run under that claim on
   * `node`, in claim order, claimed ahead (not started) at `now`; a job
   * cancelled or rescued since is left out.
   */
  take(node: string, claim: string, ids: readonly string[], now: Date): Promise<Job[]>;
}

/**
 * Options of {@link JobStore.unclaim}.
 * @publicApi
 */
export interface UnclaimOptions {
  /**
   * The jobs are due at this time rather than at their old run time (a job
   * an open circuit breaker holds waits until it turns half-open). @default unchanged
   */
  runAt?: Date;
}

/**
 * Options of {@link JobStore.count}.
 * @publicApi
 */
export interface CountOptions {
  /**
   * Stops counting at this many: resolves to the smaller of the matches and
   * `cap`, so a page's total never walks a whole table (ask for one more
   * than you show to know whether there were more). A positive integer.
   * @default no cap
   */
  cap?: number;
}

/**
 * Options of {@link JobStore.delete}.
 * @publicApi
 */
export interface DeleteOptions {
  /**
   * Deletes only jobs in one of these states, checked in the same step as
   * the delete: a job that changed state in between (say, claimed since it
   * was read) is left alone and not counted.
   * @default every state (a running job is deleted and its node aborts it)
   */
  states?: readonly JobState[];
}

/**
 * Options of {@link JobStore.complete}.
 * @publicApi
 */
export interface CompleteOptions {
  /** Delete the job rather than keep it as `completed`. @default false */
  forget?: boolean;
}

/**
 * Identifies one attempt of one job; every acknowledgement carries it.
 * @publicApi
 */
export interface AttemptRef {
  id: string;
  attempt: number;
}

/**
 * An attempt a heartbeat keeps alive. `startedAt`: when its handler started
 * (epoch ms), `null` while it waits in a buffer, absent for "started, now".
 * A start the claim did not record is recorded by the first heartbeat that
 * carries it (or by the attempt's acknowledgement).
 * @publicApi
 */
export interface HeartbeatRef extends AttemptRef {
  startedAt?: number | null;
}

/**
 * A position in a queue's claim order: priority (0 first), then `runAt`
 * (epoch ms), then insertion order (`id`, compared as a number).
 * @publicApi
 */
export interface ClaimKey {
  priority: number;
  runAt: number;
  id: string;
}

/**
 * A request to claim runnable jobs of one queue.
 * @publicApi
 */
export interface ClaimRequest {
  queue: string;
  limit: number;
  node: string;
  now: Date;
  /** Claim only these ids (used by `runJob` in the testing kit). */
  ids?: readonly string[];
  /** Claim only jobs of this priority or more urgent (a smaller number). @default 9 */
  maxPriority?: number;
  /**
   * How many of the claimed jobs (in claim order) start at once: their start
   * is recorded now. The others are claimed ahead into a buffer, with no
   * start recorded until a heartbeat or their acknowledgement records one,
   * so a node that dies before starting them does not cost them an attempt
   * (see {@link JobStore.rescue}). @default all of them
   */
  start?: number;
  /**
   * A hint, the queue runner's claim cursor: the key of the last job its
   * previous claim took. A store may leave out jobs at or before it in claim
   * order, so that a claim does not walk again the index entries of jobs
   * claimed already (with a long backlog, and a session holding an old
   * snapshot, those cannot be cleaned up and each claim would pay for them
   * all). The runner drops the cursor whenever work may have appeared behind
   * it (see `ClaimCursor`). Ignored with `ids`. A store may ignore it.
   */
  after?: ClaimKey;
}

/**
 * The buckets a rate-limited claim honours: a job is claimed only when every
 * bucket that applies to it holds a whole token, and takes one from each.
 * @publicApi
 */
export interface ClaimRateLimits {
  /** Every job of every queue. */
  global?: RateLimitSpec;
  /** Every job of the claimed queue. */
  queue?: RateLimitSpec;
  /** Jobs of these names, whatever their queue. */
  jobs?: ReadonlyMap<string, RateLimitSpec>;
}

/**
 * What a rate-limited claim took and what it held back.
 * @publicApi
 */
export interface RateLimitedClaim {
  /** The jobs claimed, as {@link JobStore.claim} returns them. */
  jobs: Job[];
  /**
   * Due jobs a limit kept from this claim (still `available`, no attempt
   * spent), in claim order, at most the claim's `limit` less the jobs claimed.
   */
  held: Job[];
  /**
   * The earliest instant a job held back (or of a name whose bucket is
   * empty) may be claimed: when the buckets in its way next hold a token.
   * `null` when nothing was held back.
   */
  retryAt: Date | null;
}

/**
 * Rate limits kept by a store: one bucket per kind and name, shared by every
 * node that uses the store. The bucket's shape (capacity, refill) comes with
 * each call, from the caller's configuration; the store keeps the tokens.
 * @publicApi
 */
export interface JobRateLimits {
  /**
   * Claims as {@link JobStore.claim} does, but only jobs every applicable
   * bucket has a token for, debiting them in the same atomic step: claims at
   * once from many nodes never take more tokens than the buckets hold. A job
   * whose name's bucket is empty never blocks later jobs of other names.
   * `request.after` is ignored.
   */
  claim(request: ClaimRequest, limits: ClaimRateLimits): Promise<RateLimitedClaim>;
  /** A bucket now (a new bucket is full). `name` is `''` for the global bucket. */
  status(kind: RateLimitKind, name: string, spec: RateLimitSpec, now: Date): Promise<RateLimitStatus>;
}

/**
 * The engine: the one place that knows how jobs are kept. Every
 * implementation passes the same conformance suite (`runStoreConformance`, lib/store/conformance/).
 *
 * Acknowledgements (`complete`, `retry`, `fail`, `release`) apply only when the
 * job is `running` with the same attempt; otherwise they change nothing and
 * reject with `StaleAttemptError`. Dead letters: see {@link DeadLetterStore}.
 * @publicApi
 */
export interface JobStore extends DeadLetterStore {
  /** True when `insert` itself wakes the queues of every node (e.g. NOTIFY in the same transaction). */
  readonly notifiesInserts?: boolean;
  /**
   * Largest JSON payload it keeps (a job's args or meta, a result), in bytes
   * of UTF-8; callers check against it before they store (e.g. a runtime
   * schedule's args). @default 1048576 (1 MiB) when a store does not say
   */
  readonly maxPayloadBytes?: number;
  /** Push to idle nodes, for a store several processes share that offers it. */
  readonly push?: JobPush;
  /**
   * Where circuit breakers are kept (shared by every node of a store several
   * processes share). A store without it gets breakers in the process.
   */
  readonly breakers?: CircuitBreakerStore;
  /**
   * The live nodes sharing the store, each as its last beat left it (the
   * dashboard's `GET api/nodes`). A store without it knows only the node
   * asking.
   */
  readonly nodes?: NodeRegistry;
  /** Rate limits (token buckets); a store without them refuses `rateLimits` at bootstrap. */
  readonly rateLimits?: JobRateLimits;
  /** Prepares the store (creates tables, connects). */
  init(): Promise<void>;
  /** Releases connections and timers. */
  close(): Promise<void>;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  /**
   * The store's own clock (epoch ms), for a store that several processes
   * share: each node measures its offset from it and judges time by it
   * (heartbeats, rescue, due jobs, ticks). Absent for a store in one process.
   */
  clockNow?(): Promise<number>;
  /**
   * Resolves once the store has first reached its server, at once when it
   * already has: a node started while the store was away (`waitForDatabase`)
   * measures its clock against {@link clockNow} at that moment, and works
   * only then. A store with `clockNow` but without this is taken to answer
   * from the start.
   */
  reachable?(): Promise<void>;

  /**
   * Inserts jobs in order, honouring tick, unique and serial keys. Every
   * job is checked first with `checkNewJobs` (lib/store/job-input.validation.ts):
   * one that breaks a limit rejects the call with a typed error, and nothing
   * of it is stored.
   * `transaction` (a TypeORM `EntityManager`) makes the insert part of the
   * caller's transaction; stores that cannot do that reject.
   */
  insert(jobs: readonly NewJob[], options?: InsertOptions): Promise<InsertResult[]>;
  /**
   * Moves up to `limit` due, available jobs of a queue to `running`, in
   * priority order (0 first), then `runAt`, then insertion order. Skips jobs
   * whose name is paused, pinned to another node, or whose serial key is
   * running. Increments `attempt` and sets a new `fencingToken`.
   */
  claim(request: ClaimRequest): Promise<Job[]>;
  /**
   * To `completed` with the handler's result; with `forget`, the job is
   * deleted instead (`retention.completed: 0`: no history of completed jobs).
   * Fenced like every acknowledgement. The result is stored cleaned (U+0000
   * and lone surrogates become U+FFFD); one the store cannot keep (over
   * `maxPayloadBytes`) rejects with `UnstorableResultError`, the job untouched.
   * Errors and cancel reasons are cleaned the same way.
   */
  complete(ref: AttemptRef, result: JsonValue | null, now: Date, options?: CompleteOptions): Promise<void>;
  /** Back to `available` at `runAt`, recording the error. */
  retry(ref: AttemptRef, runAt: Date, error: JobAttemptError): Promise<void>;
  /** To a final failed state (`dead` or `discarded`), recording the error. */
  fail(ref: AttemptRef, state: 'dead' | 'discarded', error: JobAttemptError, now: Date): Promise<void>;
  /**
   * Hands a running job back (shutdown): `available` at `runAt`. A job on its
   * last attempt gets one more, unless it was handed back
   * {@link FREE_HANDBACKS} times already (counted from its kept errors of kind
   * `shutdown`).
   */
  release(ref: AttemptRef, runAt: Date, error: JobAttemptError): Promise<void>;
  /**
   * Hands back claimed jobs that never started (a queue runner's prefetch
   * buffer, at shutdown or pause): `available` again as if never claimed
   * (`attempt` back by one; the fencing token still grows at the next
   * claim). Refs that no longer own their job are ignored. Resolves to how
   * many were handed back. With `runAt`, they are due then (a circuit breaker
   * holding them; the attempt is given back all the same).
   */
  unclaim(refs: readonly AttemptRef[], options?: UnclaimOptions): Promise<number>;
  /**
   * Records that these attempts are alive (and the start of those that
   * started since their claim). Resolves to the refs that no longer own their
   * job (rescued, cancelled, deleted): their node aborts them with reason
   * `lease-lost`.
   */
  heartbeat(refs: readonly HeartbeatRef[], now: Date): Promise<AttemptRef[]>;
  /**
   * Records the progress of a running attempt (`progress` is already checked
   * and copied by the caller). Resolves to `false`, writing nothing, when the
   * attempt no longer holds its job (finished, rescued, cancelled, deleted).
   */
  saveProgress(ref: AttemptRef, progress: JobProgress): Promise<boolean>;
  /**
   * Cancels an available or running job. Returns the job as it was before,
   * or `null` when it was not found or already final.
   */
  cancel(id: string, now: Date, reason: string): Promise<Job | null>;
  /**
   * `running` jobs whose heartbeat (or start) is older than `before`: back to
   * available (due after the rescue backoff, see {@link RESCUE_BACKOFF_BASE},
   * counted from the job's kept errors of kind `lease-lost`), or dead when out
   * of attempts. A job whose start was never recorded (claimed ahead by a
   * node that stopped before starting it) is due at once and its attempt is
   * not counted (`maxAttempts` + 1, error kind `unstarted`), for its first
   * {@link FREE_HANDBACKS} such rescues; after those, like any other.
   */
  rescue(before: Date, now: Date): Promise<Job[]>;
  /**
   * An available job due after `now` becomes due at `now` (its attempts,
   * priority and keys unchanged); one due already is left as it is.
   * Resolves to the job as it is then, or `null` when no available job has
   * this id (running, finished, gone).
   */
  makeDue(id: string, now: Date): Promise<Job | null>;
  /** Dead (or discarded) job back to `available`, with fresh attempts. */
  resurrect(id: string, now: Date): Promise<Job | null>;

  get(id: string): Promise<Job | null>;
  list(filter: JobFilter): Promise<Job[]>;
  /** How many jobs match (`limit` and `order` ignored), at most `options.cap`. */
  count(filter: JobFilter, options?: CountOptions): Promise<number>;
  /** Deletes jobs by id (only those in `options.states`, when given); returns how many were deleted. */
  delete(ids: readonly string[], options?: DeleteOptions): Promise<number>;
  /**
   * Deletes up to `limit` jobs in `states` finished before `before`. Which
   * matching jobs go first is the store's choice: the memory store takes the
   * oldest finish first, PostgreSQL the oldest id (no index there names the
   * finish time, see docs/postgres.md). Returns how many went; fewer than
   * `limit` means none that matches is left (PostgreSQL skips a job a change
   * under way holds), however the store splits its work.
   */
  prune(states: readonly JobState[], before: Date, limit: number): Promise<number>;
  queueCounts(now: Date): Promise<QueueCounts[]>;
  /**
   * The earliest `runAt` of an available job in the queue, or `null`. Jobs
   * a paused name or schedule holds back are left out: they wait on purpose
   * (the `lag` health check reads this).
   */
  nextRunAt(queue: string): Promise<Date | null>;

  saveSchedule(schedule: StoredSchedule): Promise<void>;
  deleteSchedule(name: string): Promise<boolean>;
  listSchedules(): Promise<StoredSchedule[]>;
  getScheduleStates(): Promise<ScheduleState[]>;
  /** Upserts part of a schedule's state. */
  setScheduleState(name: string, patch: Partial<Omit<ScheduleState, 'name'>>): Promise<void>;

  getQueueStates(): Promise<QueueState[]>;
  setQueueState(name: string, patch: Partial<Omit<QueueState, 'name'>>): Promise<void>;

  /**
   * Stores a new workflow run. The store assigns its `id` (a string) and sets
   * `seq` 0, `error` null, `createdAt` = `updatedAt` = `now` and `finishedAt` null.
   * @throws InvalidArgumentError for a state that is not a {@link WorkflowRunState}.
   */
  createRun(run: NewWorkflowRun, now: Date): Promise<WorkflowRun>;
  /** The run with this id, or `null`. */
  getRun(id: string): Promise<WorkflowRun | null>;
  /**
   * Atomic read-modify-write of one run: `mutate` gets a copy of the current run and returns the
   * new run (the store saves it, bumping updatedAt to `now`) or `null` (no change). Concurrent
   * updateRun calls on the same run (from many nodes) are serialised: each mutate sees the result of
   * the previous one. `mutate` must be synchronous and free of I/O. Resolves to the saved run
   * (or the unchanged one when mutate returned null), or null when the run does not exist.
   *
   * The run keeps its `id` and `createdAt` whatever `mutate` returns. When `mutate` throws,
   * nothing is saved and the call rejects with its error.
   */
  updateRun(id: string, now: Date, mutate: (run: WorkflowRun) => WorkflowRun | null): Promise<WorkflowRun | null>;
  /** Runs matching the filter, newest (last created) first; `limit` defaults to 100. */
  listRuns(filter: WorkflowRunFilter): Promise<WorkflowRun[]>;
  /**
   * Deletes up to `limit` finished runs (`completed`, `failed` or `cancelled`) whose
   * `finishedAt` is before `before`, oldest `finishedAt` first; returns how many were deleted.
   */
  deleteRuns(before: Date, limit: number): Promise<number>;
}
