import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { JsonValue } from '../common/json.js';
import type { NewWorkflowRun, WorkflowRun, WorkflowRunFilter } from '../store/workflow-run.types.js';
import { DuplicateJobError, InvalidArgumentError, StaleAttemptError } from '../scheduler.errors.js';
import type {
  AttemptRef,
  ClaimKey,
  ClaimRequest,
  CompleteOptions,
  HeartbeatRef,
  InsertOptions,
  JobRateLimits,
  JobStore,
  UnclaimOptions,
  CountOptions,
  DeleteOptions,
} from '../store/job-store.js';
import type { PostgresStoreOptions } from '../store/store-options.js';
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
import { storableMessage, storableResult } from '../store/storable-output.js';
import { insertBatch } from './job-input.js';
import { assertMigrated, migrate } from './migrations/migrator.js';
import { AckWriter } from './postgres.acks.js';
import { POSTGRES_DEFAULTS } from './postgres.connection.js';
import type { PostgresContext } from './postgres.context.js';
import { isClosedConnection, isConnectionError, refusedByPostgres, refusedLogin, StoreUnavailableError } from './postgres.errors.js';
import { HeartbeatConnection } from './postgres.heartbeat.js';
import { insertJobs } from './postgres.insert.js';
import { PostgresBreakerStore } from './postgres.breakers.js';
import { PostgresNodes } from './postgres.nodes.js';
import type { NodeRegistry } from '../store/node-registry.js';
import type { CircuitBreakerStore } from '../breakers/circuit-breaker.types.js';
import { PostgresPush } from './postgres.push.js';
import { PostgresDeadLetters } from './postgres.dead-letters.js';
import type { DeadLetterAlert, DeadLetterCounts, DeadLetterPrune, DeadLetterQuery } from '../store/dead-letter-store.js';
import { PostgresReadiness } from './postgres.readiness.js';
import { PostgresRuns } from './postgres.runs.js';
import { PostgresRateLimits } from './postgres.rate-limits.js';
import { postgresStatements, type PostgresStatements } from './sql/index.js';
import { ClaimsInDoubt } from './postgres.claim-doubts.js';
import { errorJson, toClaimedJobs, toDbId, toJob, type JobRow } from './sql/job-rows.js';
import type { Statement } from './sql/statement.js';

/** How long `close` waits for acks still being written (e.g. while the database is down). */
const CLOSE_ACK_TIMEOUT_MS = 5_000;
/** A claim that lost a race on a running serial key is tried again this often. */
const CLAIM_RACE_RETRIES = 3;

/**
 * A {@link JobStore} in PostgreSQL, for a cluster of nodes. Claims take many
 * jobs in one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`; inserts of
 * any size are one statement that also NOTIFYs the queues; completions are
 * batched; every ack is fenced by the attempt and retried through outages.
 * Same semantics as `MemoryStore` (one conformance suite).
 *
 * With `waitForDatabase` (the default) `init` resolves while PostgreSQL is
 * down and keeps trying in the background; until it is reachable, `ready` is
 * false and every call rejects with {@link StoreUnavailableError}.
 * @publicApi
 */
export class PostgresStore implements JobStore {
  /** The insert statement itself NOTIFYs every queue it adds jobs to, on commit. */
  readonly notifiesInserts = true;
  private readonly sql: PostgresStatements;
  private readonly acks: AckWriter;
  private readonly readiness: PostgresReadiness;
  /** Largest JSON payload kept (args, meta, a result), in bytes of UTF-8 (`maxPayloadBytes`). */
  readonly maxPayloadBytes: number;
  private readonly heartbeats: HeartbeatConnection;
  private readonly doubts: ClaimsInDoubt;
  /** The last id of the last prune, when it filled its batch: a backlog's next batch starts after it instead of walking the jobs that stay. */
  private pruned: { states: string; last: string } | null = null;
  private readonly runs: PostgresRuns;
  private readonly dead: PostgresDeadLetters;
  /** Push to idle nodes (`push: false` turns it off). @internal */
  readonly push: PostgresPush | undefined;
  /** Circuit breakers shared by every node (a table, migration 9). */
  readonly breakers: CircuitBreakerStore;
  /** The live nodes of the schema and prefix (a table, migration 14). */
  readonly nodes: NodeRegistry;
  /** Rate limits: one bucket per kind and name for the whole cluster (see `PostgresRateLimits`). */
  readonly rateLimits: JobRateLimits;

  constructor(
    private readonly pg: PostgresContext,
    options: PostgresStoreOptions,
  ) {
    this.sql = postgresStatements(pg);
    this.maxPayloadBytes = options.maxPayloadBytes ?? POSTGRES_DEFAULTS.maxPayloadBytes;
    this.acks = new AckWriter((statement) => this.pg.pool.query(statement), this.sql.ack);
    this.heartbeats = new HeartbeatConnection(pg);
    this.doubts = new ClaimsInDoubt((token) => this.run(this.sql.lifecycle.unclaimToken(token)), pg.timeouts.pool.statementTimeout);
    this.readiness = new PostgresReadiness(async () => {
      try {
        await (options.migrate === false ? assertMigrated(pg) : migrate(pg));
        // Now, not at the first heartbeat: by then a busy pool may hold the last connection the role allows.
        await this.heartbeats.open();
      } catch (error) {
        throw refusedLogin(error, options.url !== undefined ? 'store.url' : 'store.dataSource') ?? error;
      }
    }, options.waitForDatabase !== false);
    // Straight to the pool: a clean stop withdraws the offers after the store stopped serving calls.
    this.push = options.push === false ? undefined : new PostgresPush(this.sql.push, async (statement) => (await pg.pool.query(statement)).rows);
    this.dead = new PostgresDeadLetters(this.sql.deadLetters, this.rows);
    this.breakers = new PostgresBreakerStore(this.sql.breakers, this.rows);
    this.nodes = new PostgresNodes(this.sql.nodes, this.rows);
    this.rateLimits = new PostgresRateLimits({
      pg,
      sql: this.sql.rateLimits,
      claim: (request, ids) => this.sql.claim.claim(request, ids),
      claimLimited: (request, buckets) => this.sql.claim.claimLimited(request, buckets),
      checkReady: () => this.readiness.check(),
      lostRace: (error) => violates(error, this.sql.indexes.serialRunning),
      doubts: this.doubts,
    });
    this.runs = new PostgresRuns(
      pg,
      this.sql.runs,
      () => this.readiness.check(),
      (statement) => this.run(statement),
    );
  }

  /** True once the database was reached and the schema is in place. */
  get ready(): boolean {
    return this.readiness.ready;
  }

  init(): Promise<void> {
    return this.readiness.start();
  }

  /** Once the database was reached and the schema is in place (see {@link ready}). */
  reachable(): Promise<void> {
    return this.readiness.reached;
  }

  async close(): Promise<void> {
    if (!this.readiness.close()) return;
    await this.acks.close(CLOSE_ACK_TIMEOUT_MS);
    await this.push?.close();
    await this.heartbeats.close();
    await this.pg.close();
  }

  async ping(): Promise<void> {
    await this.rows({ text: 'SELECT 1', values: [] });
  }

  /** clock_timestamp(), not now(): the instant the statement reads it, not its transaction's start. */
  async clockNow(): Promise<number> {
    const [row] = await this.rows({ text: `SELECT date_part('epoch', clock_timestamp()) * 1000 AS ms`, values: [] });
    return Number((row as unknown as { ms: number | string }).ms);
  }

  async insert(jobs: readonly NewJob[], options: InsertOptions = {}): Promise<InsertResult[]> {
    const manager = options.transaction as { query?: unknown } | undefined;
    if (manager !== undefined && typeof manager?.query !== 'function') {
      throw new InvalidArgumentError('manager', 'must be a TypeORM EntityManager');
    }
    const now = options.now ?? options.claimFor?.now ?? options.push?.now;
    const batch = insertBatch(jobs, this.maxPayloadBytes, now);
    this.readiness.check();
    if (jobs.length === 0) return [];
    // Inside the caller's transaction, through its EntityManager: the jobs
    // (and their NOTIFY) commit or roll back with the caller's own writes.
    const query = manager?.query as ((text: string, values: unknown[]) => Promise<never[]>) | undefined;
    const rows = query ? (statement: Statement) => query.call(manager, statement.text, statement.values) : this.rows;
    const inserted = manager
      ? insertJobs(jobs, batch, this.sql.insert, this.pg.channel, rows, undefined, undefined, now)
      : insertJobs(jobs, batch, this.sql.insert, this.pg.channel, rows, options.claimFor, this.push ? options.push : undefined, now);
    // A read-only database, a revoked privilege, a full disk, a statement cancelled behind a lock: typed, not the driver's error.
    return inserted.catch((error: unknown) => {
      throw refusedByPostgres(error) ?? error;
    });
  }

  async claim(request: ClaimRequest): Promise<Job[]> {
    this.readiness.check();
    if (!(request.limit > 0)) return [];
    const limit = Number.isFinite(request.limit) ? Math.ceil(request.limit) : 2 ** 31 - 1;
    let ids: string[] | null = null;
    if (request.ids) {
      ids = [...new Set(request.ids.map(toDbId).filter((id): id is string => id !== null))];
      if (ids.length === 0) return [];
    }
    const after = claimCursor(request.after);
    if (this.doubts.size > 0) await this.doubts.settle();
    for (let attempt = 0; ; attempt++) {
      const statement = this.sql.claim.claim({ ...request, limit, after }, ids);
      const sentAt = performance.now();
      try {
        const [row] = await this.rows<{ jobs: string | null }>(statement);
        if (!row?.jobs) return [];
        const start = request.start ?? limit;
        return toClaimedJobs(row.jobs, request.now, request.node, start);
      } catch (error) {
        // Another node started a job with the same serial key at this instant;
        // by now it has committed, and the claim's NOT EXISTS will see it.
        if (attempt < CLAIM_RACE_RETRIES && violates(error, this.sql.indexes.serialRunning)) continue;
        if (error instanceof StoreUnavailableError) {
          await this.doubts.lost([[statement.token, sentAt]]);
        }
        throw error;
      }
    }
  }

  async unclaim(refs: readonly AttemptRef[], options?: UnclaimOptions): Promise<number> {
    this.readiness.check();
    const valid = refs.map((ref) => ({ id: toDbId(ref.id), attempt: ref.attempt })).filter((r): r is { id: string; attempt: number } => r.id !== null);
    if (valid.length === 0) return 0;
    const result = await this.run(
      this.sql.lifecycle.unclaim(
        valid.map((r) => r.id),
        valid.map((r) => r.attempt),
        options?.runAt ?? null,
      ),
    );
    return result.rowCount ?? 0;
  }

  /** Not `async`: one promise less per job on the hottest acknowledgement. */
  complete(ref: AttemptRef, result: JsonValue | null, now: Date, options?: CompleteOptions): Promise<void> {
    try {
      this.readiness.check();
      const record = {
        id: this.owned(ref),
        attempt: ref.attempt,
        result: storableResult(ref.id, result, this.maxPayloadBytes),
        finishedAt: now,
        forget: options?.forget === true,
      };
      return this.acks.complete(ref, record);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async retry(ref: AttemptRef, runAt: Date, error: JobAttemptError): Promise<void> {
    this.readiness.check();
    const json = errorJson(error);
    await this.acks.write(ref, this.sql.ack.retry({ id: this.owned(ref), attempt: ref.attempt }, runAt, json), { state: 'available', error: json });
  }

  async fail(ref: AttemptRef, state: 'dead' | 'discarded', error: JobAttemptError, now: Date): Promise<void> {
    this.readiness.check();
    if (state !== 'dead' && state !== 'discarded') throw new InvalidArgumentError('state', 'must be "dead" or "discarded"');
    const json = errorJson(error);
    await this.acks.write(ref, this.sql.ack.fail({ id: this.owned(ref), attempt: ref.attempt }, state, json, now), { state, error: json });
  }

  async release(ref: AttemptRef, runAt: Date, error: JobAttemptError): Promise<void> {
    this.readiness.check();
    const json = errorJson(error);
    await this.acks.write(ref, this.sql.ack.release({ id: this.owned(ref), attempt: ref.attempt }, runAt, json), { state: ['available', 'dead'], error: json });
  }

  /** On a dedicated connection (see `HeartbeatConnection`). */
  async heartbeat(refs: readonly HeartbeatRef[], now: Date): Promise<AttemptRef[]> {
    this.readiness.check();
    const valid = refs.filter((ref) => toDbId(ref.id) !== null);
    const alive = new Set<string>();
    if (valid.length > 0) {
      const result = await this.heartbeats.query(this.sql.ack.heartbeat(valid, now));
      for (const row of result.rows as { id: string; attempt: number }[]) alive.add(`${row.id}:${row.attempt}`);
    }
    return refs.filter((ref) => !alive.has(`${ref.id}:${ref.attempt}`)).map(({ id, attempt }) => ({ id, attempt }));
  }

  async saveProgress(ref: AttemptRef, progress: JobProgress): Promise<boolean> {
    this.readiness.check();
    const id = toDbId(ref.id);
    if (id === null) return false;
    const result = await this.run(this.sql.ack.progress({ id, attempt: ref.attempt }, JSON.stringify(progress)));
    return (result.rowCount ?? 0) > 0;
  }

  async cancel(id: string, now: Date, reason: string): Promise<Job | null> {
    this.readiness.check();
    const dbId = toDbId(id);
    if (dbId === null) return null;
    const [row] = await this.rows(this.sql.lifecycle.cancel(dbId, now, storableMessage(String(reason))));
    return row ? toJob(row) : null;
  }

  async rescue(before: Date, now: Date): Promise<Job[]> {
    const rows = await this.rows(this.sql.lifecycle.rescue(before, now));
    return rows.map(toJob).sort((a, b) => compareIds(a.id, b.id));
  }

  async makeDue(id: string, now: Date): Promise<Job | null> {
    this.readiness.check();
    const dbId = toDbId(id);
    if (dbId === null) return null;
    const [row] = await this.rows<JobRow>(this.sql.lifecycle.makeDue(dbId, now));
    if (row) return toJob(row);
    // Due already, or not available: nothing to write.
    const job = await this.get(id);
    return job?.state === 'available' ? job : null;
  }

  /** @throws DuplicateJobError when another active job holds its unique key. */
  async resurrect(id: string, now: Date): Promise<Job | null> {
    const dbId = toDbId(id);
    this.readiness.check();
    if (dbId === null) return null;
    for (let round = 0; ; round++) {
      const [row] = await this.rows<JobRow & { duplicate: boolean }>(this.sql.lifecycle.resurrect(dbId, now));
      if (!row) return null;
      if (!row.duplicate) return toJob(row);
      // The key's holder may be a job that is gone or final (a key left behind): drop such a key once and try again.
      if (round === 0 && row.unique_key !== null) {
        const probe = { ord: 0, tick_key: null, unique_key: row.unique_key, unique_states: null, unique_period: null, unique_since: null, serial_key: null };
        await this.run(this.sql.insert.staleKeys([probe]));
        continue;
      }
      throw new DuplicateJobError(row.unique_key ?? id);
    }
  }

  async get(id: string): Promise<Job | null> {
    this.readiness.check();
    const dbId = toDbId(id);
    if (dbId === null) return null;
    const [row] = await this.rows(this.sql.query.get(dbId));
    return row ? toJob(row) : null;
  }

  async list(filter: JobFilter): Promise<Job[]> {
    this.readiness.check();
    checkSearchFilter(filter);
    const limit = filter.limit === undefined || filter.limit === Infinity ? null : Math.ceil(filter.limit);
    if (limit !== null && !(limit > 0)) return [];
    return (await this.rows(this.sql.query.list(filter, limit))).map(toJob);
  }

  /** Counts the matches up to `cap`; `limit` and `order` are ignored. */
  async count(filter: JobFilter, options: CountOptions = {}): Promise<number> {
    checkSearchFilter(filter, options.cap);
    const [row] = await this.rows<{ count: string }>(this.sql.query.count(filter, options.cap));
    return Number(row?.count ?? 0);
  }

  async delete(ids: readonly string[], options: DeleteOptions = {}): Promise<number> {
    this.readiness.check();
    const valid = [...new Set(ids.map(toDbId).filter((id): id is string => id !== null))];
    if (valid.length === 0 || options.states?.length === 0) return 0;
    return (await this.run(this.sql.query.delete(valid, options.states ?? null))).rowCount ?? 0;
  }

  /**
   * Oldest id first (close to finish order), see `JobStore.prune`. A prune
   * that follows a full one of the same states goes on after its last id;
   * if that does not fill the batch, the rest is looked for from the start,
   * so a prune answering less than `limit` still means none is left.
   */
  async prune(states: readonly JobState[], before: Date, limit: number): Promise<number> {
    this.readiness.check();
    if (!(limit > 0) || states.length === 0) return 0;
    const bounded = Number.isFinite(limit) ? Math.ceil(limit) : 2 ** 31 - 1;
    const key = states.join();
    const cursor = this.pruned?.states === key ? this.pruned.last : null;
    this.pruned = null;
    const once = async (max: number, after: string | null) =>
      (await this.rows<{ n: number; last: string | null }>(this.sql.query.prune(states, before, max, after)))[0]!;
    let { n, last } = await once(bounded, cursor);
    if (cursor !== null && n < bounded) {
      const rest = await once(bounded - n, null);
      n += rest.n;
      // The batch is full only with jobs from the start: the next prune goes on after those.
      last = rest.last;
    }
    if (n >= bounded && last !== null) this.pruned = { states: key, last };
    return n;
  }

  listDead(query: DeadLetterQuery, limit: number, offset: number): Promise<Job[]> {
    return this.dead.list(query, limit, offset);
  }

  /** Counted from the dead-letter table in one GROUP BY. */
  deadStats(): Promise<DeadLetterCounts> {
    return this.dead.stats();
  }

  /** One statement; a dead letter being changed right now (locked) is left for the next call. */
  resurrectDead(query: DeadLetterQuery, limit: number, now: Date): Promise<Job[]> {
    return this.dead.resurrect(query, limit, now);
  }

  pruneDead(prune: DeadLetterPrune): Promise<number> {
    return this.dead.prune(prune);
  }

  takeDeadAlerts(now: Date, leaseMs: number, limit: number): Promise<DeadLetterAlert[]> {
    return this.dead.takeAlerts(now, leaseMs, limit);
  }

  settleDeadAlert(id: string, diedAt: Date, retryAt: Date | null): Promise<void> {
    return this.dead.settleAlert(id, diedAt, retryAt);
  }

  /** One entry per queue that has jobs or a stored state, sorted by name. */
  async queueCounts(now: Date): Promise<QueueCounts[]> {
    const rows = await this.rows<QueueCounts>(this.sql.query.queueCounts(now));
    return rows.map((row) => ({ ...row })).sort((a, b) => compareNames(a.queue, b.queue));
  }

  async nextRunAt(queue: string): Promise<Date | null> {
    const [row] = await this.rows<{ run_at: Date | null }>(this.sql.query.nextRunAt(queue));
    return row?.run_at ? new Date(row.run_at) : null;
  }

  async saveSchedule(schedule: StoredSchedule): Promise<void> {
    await this.rows(this.sql.state.saveSchedule(schedule.name, JSON.stringify(schedule.definition)));
  }

  /** Also forgets the schedule's state (which resumes it if paused). */
  async deleteSchedule(name: string): Promise<boolean> {
    return ((await this.run(this.sql.state.deleteSchedule(name))).rowCount ?? 0) > 0;
  }

  async listSchedules(): Promise<StoredSchedule[]> {
    const rows = await this.rows<StoredSchedule>(this.sql.state.listSchedules());
    return rows.map(({ name, definition }) => ({ name, definition })).sort((a, b) => compareNames(a.name, b.name));
  }

  async getScheduleStates(): Promise<ScheduleState[]> {
    const rows = await this.rows<{ name: string; paused: boolean; planned_until: Date | null }>(this.sql.state.getScheduleStates());
    return rows
      .map((row) => ({ name: row.name, paused: row.paused, plannedUntil: row.planned_until ? new Date(row.planned_until) : null }))
      .sort((a, b) => compareNames(a.name, b.name));
  }

  async setScheduleState(name: string, patch: Partial<Omit<ScheduleState, 'name'>>): Promise<void> {
    await this.rows(this.sql.state.setScheduleState(name, patch));
  }

  async getQueueStates(): Promise<QueueState[]> {
    const rows = await this.rows<QueueState>(this.sql.state.getQueueStates());
    return rows
      .map((row) => ({ name: row.name, paused: row.paused, concurrency: row.concurrency === null ? null : Number(row.concurrency) }))
      .sort((a, b) => compareNames(a.name, b.name));
  }

  async setQueueState(name: string, patch: Partial<Omit<QueueState, 'name'>>): Promise<void> {
    await this.rows(this.sql.state.setQueueState(name, patch));
  }

  createRun(run: NewWorkflowRun, now: Date): Promise<WorkflowRun> {
    return this.runs.create(run, now);
  }

  getRun(id: string): Promise<WorkflowRun | null> {
    return this.runs.get(id);
  }

  /** One transaction: `SELECT … FOR UPDATE`, `mutate`, `UPDATE`, COMMIT (see `PostgresRuns.update`). */
  updateRun(id: string, now: Date, mutate: (run: WorkflowRun) => WorkflowRun | null): Promise<WorkflowRun | null> {
    return this.runs.update(id, now, mutate);
  }

  listRuns(filter: WorkflowRunFilter): Promise<WorkflowRun[]> {
    return this.runs.list(filter);
  }

  /** Oldest `finishedAt` first. */
  deleteRuns(before: Date, limit: number): Promise<number> {
    return this.runs.delete(before, limit);
  }

  /** The bigint id an ack is about; an id no job can have is stale at once. */
  private owned(ref: AttemptRef): string {
    const id = toDbId(ref.id);
    if (id === null) throw new StaleAttemptError(ref.id, ref.attempt);
    return id;
  }

  /**
   * Runs a statement on the pool once the store is ready; a read whose connection closed before it
   * answered is sent once more (see `Statement.readOnly`); a lost connection becomes StoreUnavailableError.
   */
  private async run<T extends object = JobRow>(statement: Statement): Promise<pg.QueryResult<T>> {
    this.readiness.check();
    const send = () => this.pg.pool.query<T>(statement);
    try {
      return await send().catch((error: unknown) => (statement.readOnly && isClosedConnection(error) ? send() : Promise.reject(error)));
    } catch (error) {
      if (isConnectionError(error)) throw new StoreUnavailableError('lost the connection to PostgreSQL', { cause: error });
      throw error;
    }
  }

  private rows = async <T extends object = JobRow>(statement: Statement): Promise<T[]> => (await this.run<T>(statement)).rows;
}

/** The claim cursor as the statement takes it, or `undefined` (a scan from the start) for one no job can have. */
function claimCursor(key: ClaimKey | undefined): ClaimKey | undefined {
  if (key === undefined || !Number.isInteger(key.priority) || !Number.isFinite(key.runAt)) return undefined;
  const id = toDbId(key.id);
  return id === null ? undefined : { priority: Math.max(-32768, Math.min(32767, key.priority)), runAt: key.runAt, id };
}

/** Numeric order of bigint ids in text form (shorter first, then by digits). */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether an error is a unique violation of the given index (unquoted name). */
function violates(error: unknown, index: string): boolean {
  const e = error as { code?: string; constraint?: string; cause?: unknown } | null;
  return e?.code === '23505' && e.constraint === index;
}
