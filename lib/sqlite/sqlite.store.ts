import { Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import type { CircuitBreakerStore } from '../breakers/circuit-breaker.types.js';
import type { JsonValue } from '../common/json.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import type { DeadLetterAlert, DeadLetterCounts, DeadLetterPrune, DeadLetterQuery } from '../store/dead-letter-store.js';
import { checkNewJobs, resolveMaxPayloadBytes } from '../store/job-input.validation.js';
import type {
  AttemptRef,
  ClaimRequest,
  CompleteOptions,
  CountOptions,
  DeleteOptions,
  HeartbeatRef,
  InsertOptions,
  JobRateLimits,
  JobStore,
  UnclaimOptions,
} from '../store/job-store.js';
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
} from '../store/job.types.js';
import { checkSearchFilter } from '../store/search-conditions.js';
import { storableResult } from '../store/storable-output.js';
import type { SqliteStoreOptions } from '../store/store-options.js';
import type { NewWorkflowRun, WorkflowRun, WorkflowRunFilter } from '../store/workflow-run.types.js';
import { toJob, toRowId, type JobRow } from './job-rows.js';
import { SqliteAcks } from './sqlite.acks.js';
import { SqliteBreakerStore } from './sqlite.breakers.js';
import { SqliteNodeRegistry } from './sqlite.node-registry.js';
import type { NodeRegistry } from '../store/node-registry.js';
import { claimJobs } from './sqlite.claim.js';
import { unwritableSqlite, type SqliteConnection } from './sqlite.connection.js';
import { SqliteDeadLetters } from './sqlite.dead-letters.js';
import { describeSqliteError, refusedBySqlite } from './sqlite.errors.js';
import { insertJobs } from './sqlite.insert.js';
import { SqliteJobTable } from './sqlite.job-table.js';
import { SqliteLifecycle } from './sqlite.lifecycle.js';
import { migrateSqlite } from './sqlite.migrator.js';
import { SqliteQueries } from './sqlite.queries.js';
import { SqliteRateLimits } from './sqlite.rate-limits.js';
import { SqliteRuns } from './sqlite.runs.js';
import { rescueOrphans } from './sqlite.nodes.js';
import { deleteInSlices } from '../store/delete-in-slices.js';

/**
 * Who this store is, for the rescue at start (see {@link SqliteStore.init}).
 * @publicApi
 */
export interface SqliteNodeIdentity {
  /** This node's name. */
  node: string;
  /** The scheduler's clock (epoch ms). @default Date.now */
  now?: () => number;
}

/**
 * A {@link JobStore} in one SQLite file (better-sqlite3): durable with no
 * server, for one process or several processes of one machine. Every write
 * is one `BEGIN IMMEDIATE` transaction (see `SqliteConnection.write`): the
 * file has one writer at a time, which is what keeps claims of several
 * processes disjoint. Same semantics as `MemoryStore` (one conformance suite).
 * @publicApi
 */
export class SqliteStore implements JobStore {
  /** Largest JSON payload kept (args, meta, a result), in bytes of UTF-8 (`maxPayloadBytes`). */
  readonly maxPayloadBytes: number;
  /** Circuit breakers shared by every process that opens the file. */
  readonly breakers: CircuitBreakerStore;
  /** The live nodes among the processes that open the file (the `nodes` table). */
  readonly nodes: NodeRegistry;
  /** Rate limits: one bucket per kind and name for every process that opens the file. */
  readonly rateLimits: JobRateLimits;
  private readonly table: SqliteJobTable;
  private readonly lifecycle: SqliteLifecycle;
  private readonly queries: SqliteQueries;
  private readonly dead: SqliteDeadLetters;
  private readonly runs: SqliteRuns;
  private readonly acks: SqliteAcks;
  private closed = false;

  /** @throws InvalidArgumentError for a `maxPayloadBytes` that is not an integer from 1 to 16 MiB. */
  constructor(
    /** The open file (see `openSqlite`); the store closes it (a DataSource's connection: only lets go of it). */
    readonly sqlite: SqliteConnection,
    options: Omit<SqliteStoreOptions, 'type' | 'path' | 'dataSource'> = {},
    private readonly identity?: SqliteNodeIdentity,
  ) {
    this.maxPayloadBytes = resolveMaxPayloadBytes(options.maxPayloadBytes, (detail) => {
      throw new InvalidArgumentError('maxPayloadBytes', detail);
    });
    this.table = new SqliteJobTable(sqlite);
    this.lifecycle = new SqliteLifecycle(this.table);
    this.queries = new SqliteQueries(this.table);
    this.dead = new SqliteDeadLetters(this.table, this.lifecycle);
    this.runs = new SqliteRuns(sqlite, this.table);
    this.acks = new SqliteAcks(sqlite, {
      all: (done) => this.lifecycle.completeAll(done),
      alone: (done) => this.lifecycle.completeAlone(done),
      flush: () => this.table.flushCompleted(),
      drop: () => this.table.dropCompleted(),
    });
    this.breakers = new SqliteBreakerStore(sqlite, this.table);
    this.nodes = new SqliteNodeRegistry(sqlite, this.table);
    this.rateLimits = new SqliteRateLimits(sqlite, this.table, (ids) => this.rowIds(ids), identity ? (identity.now ?? Date.now) : null);
  }

  /**
   * Applies the shipped migrations; with a node identity, also rescues at
   * once the running jobs of processes of this machine that are gone (see
   * `rescueOrphans`), and records this process among those using the file.
   */
  async init(): Promise<void> {
    try {
      await migrateSqlite(this.sqlite);
      if (this.identity) await rescueOrphans(this.sqlite, this.lifecycle, this.identity.node, hostname(), process.pid, (this.identity.now ?? Date.now)());
    } catch (error) {
      // A write-protected file opens (read-only) and fails at the first write: said as the start-up error it is.
      throw unwritableSqlite(this.sqlite.option, this.sqlite.path, error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // The acks of this turn are still queued: written before the file is let go of.
      await this.acks.flush();
      if (this.identity && this.sqlite.open) await this.forgetNode(this.identity.node);
    } finally {
      // Closed even when the row could not be deleted (the file busy past the timeout): the next start judges it by its pid.
      // A DataSource's connection is only let go of: the app closes it.
      this.sqlite.close();
    }
  }

  /**
   * Takes this process off the file's list of nodes. A file another process
   * keeps busy past `busyTimeout` (or a full disk) leaves the row: harmless,
   * since the next start on this host judges it by its process id, so the
   * close goes on with a warning rather than failing the app's shutdown.
   */
  private async forgetNode(node: string): Promise<void> {
    try {
      await this.sqlite.write(() => this.table.sql('DELETE FROM nodes WHERE node = ?').run(node));
    } catch (error) {
      new Logger('Scheduler').warn(
        `SQLite: this node's entry in ${this.sqlite.path} was left at close (${describeSqliteError(error)}); the next start on this host removes it`,
      );
    }
  }

  async ping(): Promise<void> {
    await this.sqlite.read(() => this.table.sql('SELECT 1').get());
  }

  /**
   * With `transaction` (an EntityManager of the DataSource given as
   * `store.dataSource`) whose transaction is open, the jobs are written in
   * it, on its connection, in a savepoint: they commit or roll back with the
   * caller's own writes, and no claim sees them before the commit (claims
   * wait for the transaction to end). An EntityManager outside a transaction
   * inserts as usual.
   * @throws InvalidArgumentError for an EntityManager of another DataSource, or with `store.path`.
   */
  async insert(jobs: readonly NewJob[], options: InsertOptions = {}): Promise<InsertResult[]> {
    const joined = options.transaction !== undefined && this.sqlite.joins(options.transaction);
    const checked = checkNewJobs(jobs, this.maxPayloadBytes);
    if (jobs.length === 0) return [];
    try {
      if (joined) return this.sqlite.within(() => insertJobs(this.table, jobs, checked, { now: options.now }));
      return await this.sqlite.write(() => insertJobs(this.table, jobs, checked, options));
    } catch (error) {
      // A full disk, a read-only file, a file held past busyTimeout: typed, not the driver's error.
      throw refusedBySqlite(error, this.sqlite.path) ?? error;
    }
  }

  async claim(request: ClaimRequest): Promise<Job[]> {
    if (!(request.limit > 0)) return [];
    const ids = this.rowIds(request.ids);
    if (ids !== null && ids.length === 0) return [];
    let acks = null as ReturnType<SqliteAcks['writeInto']>;
    let rows: JobRow[];
    try {
      rows = await this.sqlite.write(() => {
        // The acks still queued go first into this transaction: one commit for both (see `SqliteAcks.writeInto`).
        acks = this.acks.writeInto();
        return claimJobs(this.table, request, ids);
      });
    } catch (error) {
      acks?.putBack();
      throw error;
    }
    acks?.settle();
    return rows.map(toJob);
  }

  async unclaim(refs: readonly AttemptRef[], options?: UnclaimOptions): Promise<number> {
    if (refs.length === 0) return 0;
    return this.sqlite.write(() => this.lifecycle.unclaim(refs, options?.runAt?.getTime()));
  }

  /** Batched with the other acks of this turn of the event loop (see `SqliteAcks`); resolves once committed. */
  async complete(ref: AttemptRef, result: JsonValue | null, now: Date, options?: CompleteOptions): Promise<void> {
    const forget = options?.forget === true;
    // Checked before any change: a result it refuses leaves the job running, untouched.
    const json = forget ? null : storableResult(ref.id, result, this.maxPayloadBytes);
    const at = now.getTime();
    const body = (): void => this.lifecycle.complete(ref, json, at, forget);
    const id = forget ? null : toRowId(ref.id);
    return this.acks.add(body, id === null ? undefined : { id, attempt: ref.attempt, result: json, at });
  }

  /** Batched like `complete`. */
  async retry(ref: AttemptRef, runAt: Date, error: JobAttemptError): Promise<void> {
    return this.acks.add(() => this.lifecycle.retry(ref, runAt.getTime(), error));
  }

  /** Batched like `complete`. */
  async fail(ref: AttemptRef, state: 'dead' | 'discarded', error: JobAttemptError, now: Date): Promise<void> {
    if (state !== 'dead' && state !== 'discarded') throw new InvalidArgumentError('state', 'must be "dead" or "discarded"');
    return this.acks.add(() => this.lifecycle.fail(ref, state, error, now.getTime()));
  }

  /** Batched like `complete`. */
  async release(ref: AttemptRef, runAt: Date, error: JobAttemptError): Promise<void> {
    return this.acks.add(() => this.lifecycle.release(ref, runAt.getTime(), error));
  }

  async heartbeat(refs: readonly HeartbeatRef[], now: Date): Promise<AttemptRef[]> {
    if (refs.length === 0) return [];
    return this.sqlite.write(() => this.lifecycle.heartbeat(refs, now.getTime()));
  }

  async saveProgress(ref: AttemptRef, progress: JobProgress): Promise<boolean> {
    return this.sqlite.write(() => this.lifecycle.saveProgress(ref, progress));
  }

  async cancel(id: string, now: Date, reason: string): Promise<Job | null> {
    return this.sqlite.write(() => this.lifecycle.cancel(id, now.getTime(), reason));
  }

  async rescue(before: Date, now: Date): Promise<Job[]> {
    return this.sqlite.write(() => this.lifecycle.rescue(before.getTime(), now.getTime()));
  }

  /** @throws DuplicateJobError when another active job holds its unique key. */
  async makeDue(id: string, now: Date): Promise<Job | null> {
    const rowId = toRowId(id);
    if (rowId === null) return null;
    return this.sqlite.write(() => {
      this.table.sql(`UPDATE jobs SET run_at = ? WHERE id = ? AND state = 'available' AND run_at > ?`).run(now.getTime(), rowId, now.getTime());
      const row = this.table.row(rowId);
      return row && row.state === 'available' ? toJob(row) : null;
    });
  }

  async resurrect(id: string, now: Date): Promise<Job | null> {
    return this.sqlite.write(() => this.lifecycle.resurrect(id, now.getTime()));
  }

  async get(id: string): Promise<Job | null> {
    const rowId = toRowId(id);
    const row = rowId === null ? undefined : await this.sqlite.read(() => this.table.row(rowId));
    return row ? toJob(row) : null;
  }

  async list(filter: JobFilter): Promise<Job[]> {
    checkSearchFilter(filter);
    return this.sqlite.read(() => this.queries.list(filter));
  }

  /** Counts the matches up to `cap`; `limit` and `order` are ignored. */
  async count(filter: JobFilter, options: CountOptions = {}): Promise<number> {
    checkSearchFilter(filter, options.cap);
    return this.sqlite.read(() => this.queries.count(filter, options.cap));
  }

  async delete(ids: readonly string[], options: DeleteOptions = {}): Promise<number> {
    const rowIds = this.rowIds(ids) ?? [];
    const { states } = options;
    if (rowIds.length === 0 || states?.length === 0) return 0;
    // Read and deleted in one write transaction: no claim comes in between.
    return this.sqlite.write(() => rowIds.filter((id) => (!states || states.includes(this.table.row(id)?.state as JobState)) && this.table.forget(id)).length);
  }

  /**
   * Oldest `finishedAt` first, in write transactions of 1,000 jobs: one
   * holds the file's write lock, and this process, while it runs.
   */
  async prune(states: readonly JobState[], before: Date, limit: number): Promise<number> {
    if (!(limit > 0) || states.length === 0) return 0;
    return deleteInSlices(limit, (n) =>
      this.sqlite.write(() => this.queries.pruneIds(states, before.getTime(), n).filter((id) => this.table.forget(id)).length),
    );
  }

  async listDead(query: DeadLetterQuery, limit: number, offset: number): Promise<Job[]> {
    return this.sqlite.read(() => this.dead.list(query, limit, offset));
  }

  async deadStats(): Promise<DeadLetterCounts> {
    return this.sqlite.read(() => this.dead.stats());
  }

  async resurrectDead(query: DeadLetterQuery, limit: number, now: Date): Promise<Job[]> {
    return this.sqlite.write(() => this.dead.resurrect(query, limit, now.getTime()));
  }

  async pruneDead(prune: DeadLetterPrune): Promise<number> {
    // In slices, as jobs and runs are: a write transaction holds the file and, the driver being synchronous, the process.
    return deleteInSlices(prune.limit, (n) => this.sqlite.write(() => this.dead.prune({ ...prune, limit: n })));
  }

  async takeDeadAlerts(now: Date, leaseMs: number, limit: number): Promise<DeadLetterAlert[]> {
    return this.sqlite.write(() => this.dead.takeAlerts(now.getTime(), leaseMs, limit));
  }

  async settleDeadAlert(id: string, diedAt: Date, retryAt: Date | null): Promise<void> {
    const rowId = toRowId(id);
    if (rowId === null) return;
    await this.sqlite.write(() => this.dead.settleAlert(rowId, diedAt.getTime(), retryAt?.getTime() ?? null));
  }

  async queueCounts(now: Date): Promise<QueueCounts[]> {
    return this.sqlite.read(() => this.queries.queueCounts(now.getTime()));
  }

  async nextRunAt(queue: string): Promise<Date | null> {
    return this.sqlite.read(() => this.queries.nextRunAt(queue));
  }

  async saveSchedule(schedule: StoredSchedule): Promise<void> {
    await this.sqlite.write(() =>
      this.table.sql('INSERT OR REPLACE INTO schedules (name, definition) VALUES (?, ?)').run(schedule.name, JSON.stringify(schedule.definition)),
    );
  }

  /** Also forgets the schedule's state (which resumes it if paused). */
  async deleteSchedule(name: string): Promise<boolean> {
    return this.sqlite.write(() => {
      this.table.sql('DELETE FROM schedule_states WHERE name = ?').run(name);
      return this.table.sql('DELETE FROM schedules WHERE name = ?').run(name).changes > 0;
    });
  }

  async listSchedules(): Promise<StoredSchedule[]> {
    return this.sqlite.read(() => this.queries.listSchedules());
  }

  async getScheduleStates(): Promise<ScheduleState[]> {
    return this.sqlite.read(() => this.queries.scheduleStates());
  }

  async setScheduleState(name: string, patch: Partial<Omit<ScheduleState, 'name'>>): Promise<void> {
    await this.sqlite.write(() => this.queries.setScheduleState(name, patch));
  }

  async getQueueStates(): Promise<QueueState[]> {
    return this.sqlite.read(() => this.queries.queueStates());
  }

  async setQueueState(name: string, patch: Partial<Omit<QueueState, 'name'>>): Promise<void> {
    await this.sqlite.write(() => this.queries.setQueueState(name, patch));
  }

  async createRun(run: NewWorkflowRun, now: Date): Promise<WorkflowRun> {
    return this.runs.create(run, now);
  }

  async getRun(id: string): Promise<WorkflowRun | null> {
    return this.sqlite.read(() => this.runs.get(id));
  }

  /** One write transaction: read, `mutate`, write (see `SqliteRuns.update`). */
  async updateRun(id: string, now: Date, mutate: (run: WorkflowRun) => WorkflowRun | null): Promise<WorkflowRun | null> {
    return this.runs.update(id, now, mutate);
  }

  async listRuns(filter: WorkflowRunFilter): Promise<WorkflowRun[]> {
    return this.sqlite.read(() => this.runs.list(filter));
  }

  /** Oldest `finishedAt` first. */
  async deleteRuns(before: Date, limit: number): Promise<number> {
    return this.runs.delete(before, limit);
  }

  /** Distinct row ids of the ids given (`null` for none given); ids no job can have are left out. */
  private rowIds(ids: readonly string[] | undefined): number[] | null {
    if (ids === undefined) return null;
    return [...new Set(ids.map(toRowId).filter((id): id is number => id !== null))];
  }
}
