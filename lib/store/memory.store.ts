import type { JsonValue } from '../common/json.js';
import type { NewWorkflowRun, WorkflowRun, WorkflowRunFilter } from './workflow-run.types.js';
import { DuplicateJobError, StaleAttemptError, InvalidArgumentError } from '../scheduler.errors.js';
import {
  FREE_HANDBACKS,
  rescueBackoff,
  type AttemptRef,
  type ClaimRequest,
  type CompleteOptions,
  type HeartbeatRef,
  type InsertOptions,
  type JobRateLimits,
  type JobStore,
  type UnclaimOptions,
  type CountOptions,
  type DeleteOptions,
} from './job-store.js';
import { MemoryBreakerStore } from '../breakers/memory-breaker.store.js';
import { MemoryNodeRegistry } from './memory/memory.nodes.js';
import type { NodeRegistry } from './node-registry.js';
import type { CircuitBreakerStore } from '../breakers/circuit-breaker.types.js';
import { FINAL_STATES } from './job.types.js';
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
import { ClaimIndex, jobRecord, type JobRecord, type ParkReason } from './memory/claim-index.js';
import { JobKeys } from './memory/job-keys.js';
import { copyJob, copyProgress, countErrors, pushError, storedJob } from './memory/job-records.js';
import { copyOfEntry, isFinished, type JobEntry } from './memory/finished-job.js';
import { JobTable } from './memory/job-table.js';
import { checkNewJobs, resolveMaxPayloadBytes } from './job-input.validation.js';
import { claimableAtInsert } from './new-job.js';
import { checkSearchFilter } from './search-conditions.js';
import { storableAttemptError, storableMessage, storableResultValue } from './storable-output.js';
import type { MemoryStoreOptions } from './store-options.js';
import { definedEntries, matchesFilter, sortedCopies } from './memory/queries.js';
import { QueueTally } from './memory/queue-tally.js';
import { MemoryWorkflowRuns } from './memory/workflow-runs.js';
import { DeadLetterIndex } from './memory/dead-letter-index.js';
import type { DeadLetterAlert, DeadLetterCounts, DeadLetterPrune, DeadLetterQuery } from './dead-letter-store.js';
import { MemoryRateLimits } from './memory/memory.rate-limits.js';

const RESURRECTABLE: readonly JobState[] = ['dead', 'discarded', 'cancelled'];

/** What a synchronous write answers (see {@link MemoryStore.complete}). */
const DONE: Promise<void> = Promise.resolve();

/**
 * A {@link JobStore} that keeps everything in process memory: for a single
 * node, and for tests. Nothing survives a restart.
 *
 * Claims cost O(k log n) for k claimed jobs: due jobs wait in per-queue heaps
 * in claim order, and jobs held back by a paused name or a running serial key
 * are parked until that changes rather than re-examined on every claim.
 *
 * Jobs are copied on the way in and out, so callers can never change stored
 * state. Deleting a job frees its tick key; a job in a final state frees its
 * unique key, and is kept from then on as a compact record (history: see
 * memory/finished-job.ts).
 * @publicApi
 */
export class MemoryStore implements JobStore {
  /** Largest JSON payload kept (args, meta, a result), in bytes of UTF-8. */
  readonly maxPayloadBytes: number;
  private readonly jobs = new JobTable();
  private readonly index = new ClaimIndex();
  private readonly keys = new JobKeys();
  private readonly tally = new QueueTally();
  private readonly dead = new DeadLetterIndex();
  /** The attempts each resurrect grants a job brought back once (what it had then), so that later ones grant as many. */
  private readonly retryBudgets = new Map<string, number>();
  private readonly schedules = new Map<string, StoredSchedule>();
  private readonly scheduleStates = new Map<string, ScheduleState>();
  private readonly queueStates = new Map<string, QueueState>();
  private readonly runs = new MemoryWorkflowRuns();
  private lastId = 0;
  private lastFencingToken = 0;
  /** Circuit breakers, in the process like everything else here. */
  readonly breakers: CircuitBreakerStore = new MemoryBreakerStore((names, until, now) => this.releaseHeld(names, until, now));
  /** The apps of this process that share this store instance. */
  readonly nodes: NodeRegistry = new MemoryNodeRegistry();
  /** Token buckets of this process, refilled from the claims' `now`. */
  readonly rateLimits: JobRateLimits = new MemoryRateLimits({
    index: this.index,
    blocker: (rec) => this.blocker(rec),
    start: (rec, request, starts) => this.start(rec, request, starts),
    copy: copyJob,
  });

  /** @throws InvalidArgumentError for a `maxPayloadBytes` that is not an integer from 1 to 16 MiB. */
  constructor(options: Omit<MemoryStoreOptions, 'type'> = {}) {
    this.maxPayloadBytes = resolveMaxPayloadBytes(options.maxPayloadBytes, (detail) => {
      throw new InvalidArgumentError('maxPayloadBytes', detail);
    });
  }

  async init(): Promise<void> {}
  async close(): Promise<void> {}
  async ping(): Promise<void> {}

  async insert(jobs: readonly NewJob[], options: InsertOptions = {}): Promise<InsertResult[]> {
    if (options.transaction !== undefined) {
      throw new InvalidArgumentError('manager', 'transactional enqueue needs the postgres store, or the sqlite store with a dataSource');
    }
    // The checks PostgreSQL makes (and the limits it has), so that what one store accepts the other does.
    checkNewJobs(jobs, this.maxPayloadBytes);
    const claimFor = options.claimFor;
    const now = (options.now ?? claimFor?.now ?? options.push?.now ?? new Date()).getTime();
    return jobs.map((input) => {
      const conflict = this.keys.conflictOf(input, now);
      if (conflict) return { job: copyOfEntry(conflict.rec), inserted: false, conflict: conflict.key };
      const seq = ++this.lastId;
      const rec = jobRecord(storedJob(String(seq), input, new Date(now)), seq);
      this.jobs.add(rec);
      this.keys.add(rec, input, now);
      this.tally.enter(rec.job.queue, rec.job.state);
      this.index.add(rec);
      if (claimFor && claimableAtInsert(rec.job, claimFor.now) && !this.blocker(rec)) this.start(rec, claimFor);
      return { job: copyJob(rec.job), inserted: true };
    });
  }

  async claim(request: ClaimRequest): Promise<Job[]> {
    if (request.limit <= 0) return [];
    const claimed: JobRecord[] = [];
    const now = request.now.getTime();
    // One Date for every job of the claim: stored Dates are replaced, never changed in place, and never handed out.
    const at = new Date(now);
    if (request.ids) {
      for (const rec of this.jobs.claimable(request.ids, request)) {
        if (claimed.length >= request.limit) break;
        if (this.blocker(rec)) continue;
        this.start(rec, request, claimed.length < (request.start ?? Infinity), at);
        claimed.push(rec);
      }
    } else {
      for (const rec of this.index.candidates(request.queue, request.node, now, request.maxPriority ?? 9)) {
        const blocker = this.blocker(rec);
        if (blocker) {
          this.index.park(rec, blocker.reason, blocker.key);
          continue;
        }
        this.start(rec, request, claimed.length < (request.start ?? Infinity), at);
        claimed.push(rec);
        if (claimed.length >= request.limit) break;
      }
    }
    return claimed.map((rec) => copyJob(rec.job));
  }

  async unclaim(refs: readonly AttemptRef[], options?: UnclaimOptions): Promise<number> {
    let count = 0;
    const runAt = options?.runAt;
    for (const ref of refs) {
      const rec = this.jobs.live(ref.id);
      if (rec?.job.state !== 'running' || rec.job.attempt !== ref.attempt) continue;
      const patch: Partial<Job> = { attempt: rec.job.attempt - 1, startedAt: null, heartbeatAt: null, node: null };
      if (runAt) patch.runAt = new Date(runAt.getTime());
      this.move(rec, 'available', patch);
      count++;
    }
    return count;
  }

  /** Jobs a circuit breaker held until `until` become due at `now` (see `CircuitBreakerStore.release`). */
  private releaseHeld(names: readonly string[], until: Date, now: Date): string[] {
    const wanted = new Set(names);
    const held: JobRecord[] = [];
    for (const entry of this.jobs.values()) {
      if (isFinished(entry) || entry.job.state !== 'available' || !wanted.has(entry.job.name)) continue;
      if (entry.job.runAt.getTime() === until.getTime()) held.push(entry);
    }
    for (const rec of held) this.move(rec, 'available', { runAt: new Date(now.getTime()) });
    return [...new Set(held.map((rec) => rec.job.queue))];
  }

  /**
   * Not an `async` method: the hottest call of a drain, where an async
   * method's frame and promise were ~70 B of the ~2.9 KB a job allocated.
   * It answers with one shared settled promise (or a rejected one), as an
   * async method would.
   */
  complete(ref: AttemptRef, result: JsonValue | null, now: Date, options?: CompleteOptions): Promise<void> {
    try {
      const rec = this.owned(ref);
      if (options?.forget) this.forget(rec);
      else {
        // Before any change: a result it refuses leaves the job running, untouched.
        const value = storableResultValue(ref.id, result, this.maxPayloadBytes);
        // Fields set in place, not through move()'s patch: the hottest transition, with start().
        this.leave(rec);
        rec.job.state = 'completed';
        rec.job.result = value;
        this.finish(rec, now.getTime());
      }
      return DONE;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async retry(ref: AttemptRef, runAt: Date, error: JobAttemptError): Promise<void> {
    const rec = this.owned(ref);
    pushError(rec.job, storableAttemptError(error));
    this.move(rec, 'available', { runAt: new Date(runAt.getTime()) });
  }

  async fail(ref: AttemptRef, state: 'dead' | 'discarded', error: JobAttemptError, now: Date): Promise<void> {
    const rec = this.owned(ref);
    pushError(rec.job, storableAttemptError(error));
    this.move(rec, state, { finishedAt: new Date(now.getTime()) });
  }

  /**
   * The attempt that was interrupted still counts (`attempt` never goes back,
   * so a late acknowledgement from it stays stale), but when it was the last
   * one allowed, `maxAttempts` grows by one so the job gets another chance,
   * for its first {@link FREE_HANDBACKS} hand-backs; after those it is dead.
   */
  async release(ref: AttemptRef, runAt: Date, error: JobAttemptError): Promise<void> {
    const rec = this.owned(ref);
    const { job } = rec;
    const last = job.attempt >= job.maxAttempts;
    const free = countErrors(job, 'shutdown') < FREE_HANDBACKS;
    pushError(job, storableAttemptError(error));
    if (last && !free) return this.move(rec, 'dead', { finishedAt: new Date(runAt.getTime()) });
    this.move(rec, 'available', { runAt: new Date(runAt.getTime()), maxAttempts: last ? job.maxAttempts + 1 : job.maxAttempts });
  }

  async heartbeat(refs: readonly HeartbeatRef[], now: Date): Promise<AttemptRef[]> {
    const lost: AttemptRef[] = [];
    for (const ref of refs) {
      const job = this.jobs.live(ref.id)?.job;
      if (job?.state !== 'running' || job.attempt !== ref.attempt) {
        lost.push({ id: ref.id, attempt: ref.attempt });
        continue;
      }
      job.heartbeatAt = new Date(now.getTime());
      if (job.startedAt === null && ref.startedAt !== null) job.startedAt = new Date(ref.startedAt ?? now.getTime());
    }
    return lost;
  }

  async saveProgress(ref: AttemptRef, progress: JobProgress): Promise<boolean> {
    const rec = this.jobs.live(ref.id);
    if (!rec || rec.job.state !== 'running' || rec.job.attempt !== ref.attempt) return false;
    rec.job.progress = copyProgress(progress);
    return true;
  }

  async cancel(id: string, now: Date, reason: string): Promise<Job | null> {
    const rec = this.jobs.live(id);
    if (!rec) return null;
    const before = copyJob(rec.job);
    pushError(rec.job, { kind: 'cancel', name: 'CancelledError', message: storableMessage(reason), attempt: rec.job.attempt, at: now });
    this.move(rec, 'cancelled', { finishedAt: new Date(now.getTime()) });
    return before;
  }

  async makeDue(id: string, now: Date): Promise<Job | null> {
    const rec = this.jobs.live(id);
    if (!rec || rec.job.state !== 'available') return null;
    if (rec.job.runAt.getTime() > now.getTime()) this.move(rec, 'available', { runAt: new Date(now.getTime()) });
    return copyJob(rec.job);
  }

  async rescue(before: Date, now: Date): Promise<Job[]> {
    const lost = [...this.keys.running]
      .filter(({ job }) => (job.heartbeatAt ?? (job.startedAt as Date)).getTime() < before.getTime())
      .sort((a, b) => a.seq - b.seq);
    for (const rec of lost) {
      const { job } = rec;
      const since = (job.heartbeatAt ?? (job.startedAt as Date)).toISOString();
      if (job.startedAt === null && countErrors(job, 'unstarted') < FREE_HANDBACKS) {
        const message = `claimed ahead by a node that stopped before starting it (no heartbeat since ${since}); this attempt is not counted`;
        pushError(job, { kind: 'unstarted', name: 'RescuedError', message, attempt: job.attempt, at: now });
        this.move(rec, 'available', { runAt: new Date(now.getTime()), maxAttempts: job.maxAttempts + 1 });
        continue;
      }
      const delay = rescueBackoff(countErrors(job, 'lease-lost'));
      pushError(job, { kind: 'lease-lost', name: 'RescuedError', message: `no heartbeat since ${since}`, attempt: job.attempt, at: now });
      if (job.attempt < job.maxAttempts) this.move(rec, 'available', { runAt: new Date(now.getTime() + delay) });
      else this.move(rec, 'dead', { finishedAt: new Date(now.getTime()) });
    }
    return lost.map((rec) => copyJob(rec.job));
  }

  /**
   * Gives a dead, discarded or cancelled job as many attempts as it had at
   * first (at least one) on top of those already made.
   * It takes its unique key back with the default states and no period.
   * @throws DuplicateJobError when another job holding its unique key blocks it.
   */
  async resurrect(id: string, now: Date): Promise<Job | null> {
    const finished = this.jobs.get(id);
    if (!finished || !isFinished(finished) || !RESURRECTABLE.includes(finished.state)) return null;
    // A dead, discarded or cancelled job holds no unique key, so any holder is another job.
    const { uniqueKey } = finished.extras;
    if (uniqueKey !== null && this.keys.uniqueHolder(uniqueKey, {}, now.getTime())) throw new DuplicateJobError(uniqueKey);
    this.tally.leave(finished.queue, finished.state);
    this.dead.remove(id);
    const rec = this.jobs.revive(finished);
    const { job } = rec;
    let budget = this.retryBudgets.get(id);
    if (budget === undefined) this.retryBudgets.set(id, (budget = Math.max(1, job.maxAttempts)));
    Object.assign(job, { state: 'available', runAt: new Date(now.getTime()), finishedAt: null, maxAttempts: job.attempt + budget });
    this.keys.revive(finished, rec);
    if (uniqueKey !== null) this.keys.takeUnique(uniqueKey, rec, null, now.getTime());
    this.enter(rec);
    return copyJob(job);
  }

  async get(id: string): Promise<Job | null> {
    const entry = this.jobs.get(id);
    return entry ? copyOfEntry(entry) : null;
  }

  async list(filter: JobFilter): Promise<Job[]> {
    checkSearchFilter(filter);
    const jobs: Job[] = [];
    const limit = filter.limit ?? Infinity;
    if (limit <= 0) return jobs;
    const entries = [...this.jobs.values()];
    if (filter.order !== 'asc') entries.reverse();
    for (const entry of entries) {
      if (!matchesFilter(entry, filter)) continue;
      jobs.push(copyOfEntry(entry));
      if (jobs.length >= limit) break;
    }
    return jobs;
  }

  /** Counts the matches up to `cap`; `limit` and `order` are ignored. */
  async count(filter: JobFilter, options: CountOptions = {}): Promise<number> {
    checkSearchFilter(filter, options.cap);
    const cap = options.cap ?? Infinity;
    let count = 0;
    for (const entry of this.jobs.values()) if (matchesFilter(entry, filter) && ++count >= cap) break;
    return count;
  }

  async delete(ids: readonly string[], options: DeleteOptions = {}): Promise<number> {
    let deleted = 0;
    for (const id of new Set(ids)) {
      const entry = this.jobs.get(id);
      if (!entry || (options.states && !options.states.includes(isFinished(entry) ? entry.state : entry.job.state))) continue;
      this.forget(entry);
      deleted++;
    }
    return deleted;
  }

  /** Oldest `finishedAt` first (only finished jobs have one). */
  async prune(states: readonly JobState[], before: Date, limit: number): Promise<number> {
    const doomed = this.jobs.oldest(states, before.getTime(), limit);
    for (const finished of doomed) this.forget(finished);
    return doomed.length;
  }

  async listDead(query: DeadLetterQuery, limit: number, offset: number): Promise<Job[]> {
    return this.dead
      .select(query)
      .slice(offset, offset + limit)
      .map((entry) => copyOfEntry(this.jobs.get(entry.id) as JobEntry));
  }

  async deadStats(): Promise<DeadLetterCounts> {
    return this.dead.stats();
  }

  /** Skips (leaves dead) one whose unique key another active job holds, as the single `resurrect` would refuse it. */
  async resurrectDead(query: DeadLetterQuery, limit: number, now: Date): Promise<Job[]> {
    const moved: Job[] = [];
    for (const entry of this.dead.select(query, true)) {
      if (moved.length >= limit) break;
      const finished = this.jobs.get(entry.id);
      const key = finished && isFinished(finished) ? finished.extras.uniqueKey : null;
      if (key !== null && this.keys.uniqueHolder(key, {}, now.getTime())) continue;
      const job = await this.resurrect(entry.id, now);
      if (job) moved.push(job);
    }
    return moved;
  }

  async pruneDead({ before, keep, limit }: DeadLetterPrune): Promise<number> {
    if (limit <= 0) return 0;
    const beforeMs = before === null ? Infinity : before.getTime();
    // Newest first: skip the `keep` newest, then take the oldest `limit` of the rest.
    const older = this.dead
      .select({})
      .slice(Math.max(0, keep))
      .filter((entry) => entry.diedAtMs < beforeMs);
    const doomed = older.slice(Math.max(0, older.length - limit));
    for (const entry of doomed) this.forget(this.jobs.get(entry.id) as JobEntry);
    return doomed.length;
  }

  async takeDeadAlerts(now: Date, leaseMs: number, limit: number): Promise<DeadLetterAlert[]> {
    return this.dead.take(now.getTime(), leaseMs, limit).map((entry) => ({ job: copyOfEntry(this.jobs.get(entry.id) as JobEntry), tries: entry.tries }));
  }

  async settleDeadAlert(id: string, diedAt: Date, retryAt: Date | null): Promise<void> {
    this.dead.settle(id, diedAt.getTime(), retryAt === null ? null : retryAt.getTime());
  }

  /** One entry per queue that has jobs or a stored state, sorted by name. */
  async queueCounts(now: Date): Promise<QueueCounts[]> {
    return this.tally.counts(this.queueStates.keys(), now, (queue) => this.index.available(queue));
  }

  async nextRunAt(queue: string): Promise<Date | null> {
    const paused = [...this.scheduleStates.values()].filter((state) => state.paused).map((state) => state.name);
    const held = paused.length === 0 ? null : (job: Job) => paused.includes(job.name) || (job.schedule !== null && paused.includes(job.schedule));
    return this.index.nextRunAt(queue, held);
  }

  async saveSchedule(schedule: StoredSchedule): Promise<void> {
    this.schedules.set(schedule.name, structuredClone(schedule));
  }

  /** Also forgets the schedule's state (which resumes it if paused). */
  async deleteSchedule(name: string): Promise<boolean> {
    const existed = this.schedules.delete(name);
    const state = this.scheduleStates.get(name);
    this.scheduleStates.delete(name);
    if (state?.paused) this.index.unpark('paused', name);
    return existed;
  }

  async listSchedules(): Promise<StoredSchedule[]> {
    return sortedCopies(this.schedules);
  }

  async getScheduleStates(): Promise<ScheduleState[]> {
    return sortedCopies(this.scheduleStates);
  }

  async setScheduleState(name: string, patch: Partial<Omit<ScheduleState, 'name'>>): Promise<void> {
    const previous = this.scheduleStates.get(name) ?? { name, paused: false, plannedUntil: null };
    this.scheduleStates.set(name, structuredClone({ ...previous, ...definedEntries(patch), name }));
    if (previous.paused && patch.paused === false) this.index.unpark('paused', name);
  }

  async getQueueStates(): Promise<QueueState[]> {
    return sortedCopies(this.queueStates);
  }

  async setQueueState(name: string, patch: Partial<Omit<QueueState, 'name'>>): Promise<void> {
    const previous = this.queueStates.get(name) ?? { name, paused: false, concurrency: null };
    this.queueStates.set(name, { ...previous, ...definedEntries(patch), name });
  }

  async createRun(run: NewWorkflowRun, now: Date): Promise<WorkflowRun> {
    return this.runs.create(run, now);
  }

  async getRun(id: string): Promise<WorkflowRun | null> {
    return this.runs.get(id);
  }

  /** Serialised by construction: `mutate` and the save run with no await between them. */
  async updateRun(id: string, now: Date, mutate: (run: WorkflowRun) => WorkflowRun | null): Promise<WorkflowRun | null> {
    return this.runs.update(id, now, mutate);
  }

  async listRuns(filter: WorkflowRunFilter): Promise<WorkflowRun[]> {
    return this.runs.list(filter);
  }

  async deleteRuns(before: Date, limit: number): Promise<number> {
    return this.runs.delete(before, limit);
  }

  /** The pause or serial key holding a due job back, if any. */
  private blocker({ job }: JobRecord): { reason: ParkReason; key: string } | null {
    for (const key of [job.name, job.schedule]) {
      if (key !== null && this.scheduleStates.get(key)?.paused) return { reason: 'paused', key };
    }
    if (job.serialKey !== null && this.keys.serialRunning(job.serialKey)) return { reason: 'serial', key: job.serialKey };
    return null;
  }

  /** `at`: the claim's instant as a Date, which the jobs of one claim share. */
  private start(rec: JobRecord, request: Pick<ClaimRequest, 'node' | 'now'>, starts = true, at = new Date(request.now.getTime())): void {
    const job = rec.job;
    this.leave(rec);
    job.state = 'running';
    job.attempt++;
    // One Date for both: a stored job's dates are replaced, never changed in place.
    job.heartbeatAt = at;
    job.startedAt = starts ? at : null;
    job.node = request.node;
    job.fencingToken = ++this.lastFencingToken;
    this.enter(rec);
  }

  /**
   * The record an acknowledgement may change, or a StaleAttemptError (nothing
   * changed). A job claimed ahead and finished before a heartbeat recorded
   * its start gets its last heartbeat as its start.
   */
  private owned(ref: AttemptRef): JobRecord {
    const rec = this.jobs.live(ref.id);
    if (rec?.job.state !== 'running' || rec.job.attempt !== ref.attempt) throw new StaleAttemptError(ref.id, ref.attempt);
    if (rec.job.startedAt === null) rec.job.startedAt = rec.job.heartbeatAt;
    return rec;
  }

  /** Changes state, keeping the indexes right; `patch` applies while the job is in no index. */
  private move(rec: JobRecord, state: JobState, patch: Partial<Job> = {}): void {
    this.leave(rec);
    Object.assign(rec.job, patch, { state });
    if (FINAL_STATES.includes(state)) this.finish(rec, (rec.job.finishedAt as Date).getTime());
    else this.enter(rec);
  }

  /** A live job (out of every index) in its final state: kept as a compact record from now on. */
  private finish(rec: JobRecord, finishedAtMs: number): void {
    const finished = this.jobs.finish(rec, finishedAtMs);
    this.tally.enter(finished.queue, finished.state);
    if (finished.state === 'dead') this.dead.add(finished);
    this.keys.finish(rec, finished);
  }

  /** Removes a job and frees its keys. */
  private forget(entry: JobEntry): void {
    if (isFinished(entry)) {
      this.tally.leave(entry.queue, entry.state);
      if (entry.state === 'dead') this.dead.remove(entry.id);
    } else this.leave(entry);
    this.keys.forget(entry);
    this.jobs.delete(entry);
    this.retryBudgets.delete(isFinished(entry) ? entry.id : entry.job.id);
  }

  private leave(rec: JobRecord): void {
    this.tally.leave(rec.job.queue, rec.job.state);
    if (rec.job.state === 'available') this.index.remove(rec);
    const freedSerial = this.keys.leave(rec);
    if (freedSerial !== null) this.index.unpark('serial', freedSerial);
  }

  private enter(rec: JobRecord): void {
    this.tally.enter(rec.job.queue, rec.job.state);
    this.keys.enter(rec);
    if (rec.job.state === 'available') this.index.add(rec);
  }
}
