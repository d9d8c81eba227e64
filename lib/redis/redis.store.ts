import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../common/json.js';
import type { CircuitBreakerStore } from '../breakers/circuit-breaker.types.js';
import { DuplicateJobError, InvalidArgumentError } from '../scheduler.errors.js';
import type { DeadLetterAlert, DeadLetterCounts, DeadLetterPrune, DeadLetterQuery } from '../store/dead-letter-store.js';
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
import { checkNewJobs, resolveMaxPayloadBytes } from '../store/job-input.validation.js';
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
import { compareNames } from '../store/memory/queries.js';
import { checkSearchFilter } from '../store/search-conditions.js';
import { storableAttemptError, storableMessage, storableResult } from '../store/storable-output.js';
import type { NewWorkflowRun, WorkflowRun, WorkflowRunFilter } from '../store/workflow-run.types.js';
import { decodeJob, decodeJobJson, encodeError, encodeNewJob, type FlatHash } from './redis.codec.js';
import { closeRedis, type RedisConnection } from './redis.client.js';
import { RedisAcks } from './redis.acks.js';
import { RedisBreakers } from './redis.breakers.js';
import { RedisNodes } from './redis.nodes.js';
import type { NodeRegistry } from '../store/node-registry.js';
import { RedisDeadLetters } from './redis.dead-letters.js';
import { RedisRateLimits } from './redis.rate-limits.js';
import { RedisRuns } from './redis.runs.js';
import { RedisParking } from './redis.parking.js';
import { RedisStates } from './redis.states.js';
import { deleteInSlices } from '../store/delete-in-slices.js';

/** How long `close` waits for acknowledgements still being written (e.g. while the server is out of reach). */
const CLOSE_ACK_TIMEOUT_MS = 5_000;

/**
 * Options of a {@link RedisStore} beside its connection.
 * @publicApi
 */
export interface RedisStoreSettings {
  /** Largest JSON payload kept (args, meta, a result), bytes of UTF-8, 1 to 16 MiB. @default 1048576 */
  maxPayloadBytes?: number;
}

/**
 * A {@link JobStore} in Redis (the `nestjs-scheduler/redis` engine). Every
 * change of a job is one Lua script (scripts/), so it is atomic and one
 * round trip; the key layout is in scripts/prelude.lua.ts. Nodes sharing
 * the server and key prefix share the jobs.
 * @publicApi
 */
export class RedisStore implements JobStore {
  readonly maxPayloadBytes: number;
  /** Circuit breakers shared by every node of the store. */
  readonly breakers: CircuitBreakerStore;
  /** The live nodes of the store (the hash `nodes`). */
  readonly nodes: NodeRegistry;
  /** Token buckets shared by every node of the store. */
  readonly rateLimits: JobRateLimits;
  private readonly states: RedisStates;
  private readonly parking: RedisParking;
  private readonly runs: RedisRuns;
  private readonly dead: RedisDeadLetters;
  private readonly acks: RedisAcks;

  /** @throws InvalidArgumentError for a `maxPayloadBytes` that is not an integer from 1 to 16 MiB. */
  constructor(
    private readonly redis: RedisConnection,
    settings: RedisStoreSettings = {},
  ) {
    this.maxPayloadBytes = resolveMaxPayloadBytes(settings.maxPayloadBytes, (detail) => {
      throw new InvalidArgumentError('maxPayloadBytes', detail);
    });
    this.breakers = new RedisBreakers(redis);
    this.nodes = new RedisNodes(redis);
    this.rateLimits = new RedisRateLimits(redis);
    this.parking = new RedisParking(redis);
    this.states = new RedisStates(redis, this.parking);
    this.runs = new RedisRuns(redis);
    this.dead = new RedisDeadLetters(redis);
    this.acks = new RedisAcks(redis);
  }

  /**
   * Pings the server, then indexes dead letters an earlier build wrote (see
   * `RedisDeadLetters.index`) and parks paused jobs it left claimable or a
   * refile cut short (see `RedisParking`); a server not reached yet
   * (`waitForDatabase`) lets the node start, and is used once it answers.
   */
  async init(): Promise<void> {
    if (this.redis.waiting()) return;
    await this.ping();
    await this.dead.index();
    await this.parking.settleOrWarn();
  }

  /** Once the server was first reached: at once, unless the node started while it was away (`waitForDatabase`). */
  reachable(): Promise<void> {
    if (!this.redis.waiting()) return Promise.resolve();
    // After the connection's own 'ready' listener (added at open): by then calls no longer fail fast.
    return new Promise((resolve) => this.redis.client.once('ready', () => resolve()));
  }

  /**
   * Writes the acknowledgements still queued and waits up to 5 s for those
   * under way (retried while the server is out of reach), rejecting the rest
   * with StoreUnavailableError; then closes the connection when the store
   * opened it (a client you passed stays yours).
   */
  async close(): Promise<void> {
    await this.parking.close();
    await this.acks.close(CLOSE_ACK_TIMEOUT_MS);
    await closeRedis(this.redis);
  }

  async ping(): Promise<void> {
    await this.redis.client.ping();
  }

  /** The server's clock (TIME), which every node judges time by. */
  async clockNow(): Promise<number> {
    const [seconds, micros] = await this.redis.client.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  async insert(jobs: readonly NewJob[], options: InsertOptions = {}): Promise<InsertResult[]> {
    if (options.transaction !== undefined)
      throw new InvalidArgumentError('manager', 'transactional enqueue needs the postgres store, or the sqlite store with a dataSource');
    const checked = checkNewJobs(jobs, this.maxPayloadBytes);
    if (jobs.length === 0) return [];
    const claimFor = options.claimFor;
    const now = (options.now ?? claimFor?.now ?? options.push?.now ?? new Date()).getTime();
    const entries = jobs.map((job, i) => encodeNewJob(job, checked[i]!, claimFor?.now ?? null));
    const answer = (await this.redis.run('schedInsert', now, Date.now(), claimFor?.node ?? '', claimFor?.now.getTime() ?? 0, ...entries)) as [string, string][];
    return answer.map(([conflict, json]) =>
      conflict === ''
        ? { job: decodeJobJson(json), inserted: true }
        : { job: decodeJobJson(json), inserted: false, conflict: conflict as 'tick' | 'unique' | 'serial' },
    );
  }

  async claim(request: ClaimRequest): Promise<Job[]> {
    if (!(request.limit > 0)) return [];
    if (request.ids && request.ids.length === 0) return [];
    const limit = Number.isFinite(request.limit) ? Math.ceil(request.limit) : 2 ** 31 - 1;
    const start = request.start === undefined || !Number.isFinite(request.start) ? limit : request.start;
    // The token lets a claim that ioredis sends again (its answer was lost) answer what it took (see claim_replay).
    const args = [request.queue, limit, request.node, request.now.getTime(), request.maxPriority ?? 9, start, randomUUID(), ...(request.ids ?? [])];
    return ((await this.redis.run('schedClaim', ...args)) as string[]).map(decodeJobJson);
  }

  /**
   * Completions of one turn of the event loop are written together, each
   * fenced on its own; while the server is out of reach the write is tried
   * again until it lands or the store closes (see RedisAcks).
   */
  complete(ref: AttemptRef, result: JsonValue | null, now: Date, options?: CompleteOptions): Promise<void> {
    if (options?.forget) return this.acks.complete('forget', ref, now.getTime(), '');
    // Before any change: a result it refuses leaves the job running, untouched.
    let json: string | null;
    try {
      json = storableResult(ref.id, result, this.maxPayloadBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.acks.complete('complete', ref, now.getTime(), json ?? '');
  }

  retry(ref: AttemptRef, runAt: Date, error: JobAttemptError): Promise<void> {
    return this.ackError('retry', ref, runAt, error);
  }

  fail(ref: AttemptRef, state: 'dead' | 'discarded', error: JobAttemptError, now: Date): Promise<void> {
    return this.ackError(state, ref, now, error);
  }

  release(ref: AttemptRef, runAt: Date, error: JobAttemptError): Promise<void> {
    return this.ackError('release', ref, runAt, error);
  }

  async unclaim(refs: readonly AttemptRef[], options?: UnclaimOptions): Promise<number> {
    if (refs.length === 0) return 0;
    const pairs = refs.flatMap((ref) => [ref.id, String(ref.attempt)]);
    return Number(await this.redis.run('schedUnclaim', options?.runAt ? options.runAt.getTime() : '', ...pairs));
  }

  async heartbeat(refs: readonly HeartbeatRef[], now: Date): Promise<AttemptRef[]> {
    if (refs.length === 0) return [];
    const triples = refs.flatMap((ref) => [ref.id, String(ref.attempt), ref.startedAt === null ? '' : String(ref.startedAt ?? now.getTime())]);
    const lost = (await this.redis.run('schedHeartbeat', now.getTime(), ...triples)) as string[];
    const out: AttemptRef[] = [];
    for (let i = 0; i < lost.length; i += 2) out.push({ id: lost[i]!, attempt: Number(lost[i + 1]) });
    return out;
  }

  /** The progress is kept on the job (a field of its hash), fenced by the attempt like an acknowledgement. */
  async saveProgress(ref: AttemptRef, progress: JobProgress): Promise<boolean> {
    return Number(await this.redis.run('schedProgress', ref.id, String(ref.attempt), JSON.stringify(progress))) === 1;
  }

  async cancel(id: string, now: Date, reason: string): Promise<Job | null> {
    const before = (await this.redis.run('schedCancel', id, now.getTime(), JSON.stringify(storableMessage(reason)))) as FlatHash | null;
    return before ? decodeJob(before) : null;
  }

  async rescue(before: Date, now: Date): Promise<Job[]> {
    return ((await this.redis.run('schedRescue', before.getTime(), now.getTime())) as FlatHash[]).map(decodeJob);
  }

  /** @throws DuplicateJobError when another job holding its unique key blocks it. */
  async resurrect(id: string, now: Date): Promise<Job | null> {
    const answer = (await this.redis.run('schedResurrect', id, now.getTime())) as FlatHash | string | null;
    if (answer === 'DUP') {
      const job = await this.get(id);
      throw new DuplicateJobError(job?.uniqueKey ?? id);
    }
    return Array.isArray(answer) ? decodeJob(answer) : null;
  }

  async makeDue(id: string, now: Date): Promise<Job | null> {
    const flat = (await this.redis.run('schedMakeDue', id, now.getTime())) as FlatHash | null;
    return flat === null || flat.length === 0 ? null : decodeJob(flat);
  }

  async get(id: string): Promise<Job | null> {
    const flat = (await this.redis.run('schedGet', id)) as FlatHash;
    return flat.length === 0 ? null : decodeJob(flat);
  }

  async list(filter: JobFilter): Promise<Job[]> {
    checkSearchFilter(filter);
    if ((filter.limit !== undefined && filter.limit <= 0) || filter.states?.length === 0) return [];
    return ((await this.redis.run('schedList', 'list', filterJson(filter))) as FlatHash[]).map(decodeJob);
  }

  /** Counts the matches up to `cap`; `limit` and `order` are ignored. */
  async count(filter: JobFilter, options: CountOptions = {}): Promise<number> {
    checkSearchFilter(filter, options.cap);
    if (filter.states?.length === 0) return 0;
    return Number(await this.redis.run('schedList', 'count', filterJson({ ...filter, limit: undefined }, options.cap)));
  }

  async delete(ids: readonly string[], options: DeleteOptions = {}): Promise<number> {
    if (ids.length === 0 || options.states?.length === 0) return 0;
    return Number(await this.redis.run('schedDelete', options.states?.join(',') ?? '', ...new Set(ids)));
  }

  /** Oldest `finishedAt` first, in script calls of 1,000 (a long script stalls every client of the server). */
  async prune(states: readonly JobState[], before: Date, limit: number): Promise<number> {
    if (!(limit > 0) || states.length === 0) return 0;
    return deleteInSlices(Math.min(limit, 2 ** 31 - 1), async (n) => Number(await this.redis.run('schedPrune', before.getTime(), n, ...states)));
  }

  listDead(query: DeadLetterQuery, limit: number, offset: number): Promise<Job[]> {
    return this.dead.list(query, limit, offset);
  }
  deadStats(): Promise<DeadLetterCounts> {
    return this.dead.stats();
  }
  /** Skips (leaves dead) one whose unique key another active job holds. */
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
    const answer = (await this.redis.run('schedQueueCounts', now.getTime())) as [string, number, string[]][];
    return answer
      .map(([queue, due, flat]) => {
        const by: Record<string, number> = {};
        for (let i = 0; i < flat.length; i += 2) by[flat[i]!] = Number(flat[i + 1]);
        const available = by.available ?? 0;
        return {
          queue,
          available: Number(due),
          scheduled: available - Number(due),
          running: by.running ?? 0,
          completed: by.completed ?? 0,
          dead: by.dead ?? 0,
          discarded: by.discarded ?? 0,
          cancelled: by.cancelled ?? 0,
        };
      })
      .sort((a, b) => compareNames(a.queue, b.queue));
  }

  async nextRunAt(queue: string): Promise<Date | null> {
    const at = (await this.redis.run('schedNextRun', queue)) as string | null;
    return at === null ? null : new Date(Number(at));
  }

  saveSchedule(schedule: StoredSchedule): Promise<void> {
    return this.states.saveSchedule(schedule);
  }
  deleteSchedule(name: string): Promise<boolean> {
    return this.states.deleteSchedule(name);
  }
  listSchedules(): Promise<StoredSchedule[]> {
    return this.states.listSchedules();
  }
  getScheduleStates(): Promise<ScheduleState[]> {
    return this.states.getScheduleStates();
  }
  setScheduleState(name: string, patch: Partial<Omit<ScheduleState, 'name'>>): Promise<void> {
    return this.states.setScheduleState(name, patch);
  }
  getQueueStates(): Promise<QueueState[]> {
    return this.states.getQueueStates();
  }
  setQueueState(name: string, patch: Partial<Omit<QueueState, 'name'>>): Promise<void> {
    return this.states.setQueueState(name, patch);
  }

  createRun(run: NewWorkflowRun, now: Date): Promise<WorkflowRun> {
    return this.runs.create(run, now);
  }
  getRun(id: string): Promise<WorkflowRun | null> {
    return this.runs.get(id);
  }
  /** Optimistic: `mutate` runs on the run as read, and the save is a compare-and-set, tried again on a lost race. */
  updateRun(id: string, now: Date, mutate: (run: WorkflowRun) => WorkflowRun | null): Promise<WorkflowRun | null> {
    return this.runs.update(id, now, mutate);
  }
  listRuns(filter: WorkflowRunFilter): Promise<WorkflowRun[]> {
    return this.runs.list(filter);
  }
  deleteRuns(before: Date, limit: number): Promise<number> {
    return this.runs.delete(before, limit);
  }

  /** Tried again while the server is out of reach, until it lands or the store closes (see RedisAcks). */
  private ackError(op: 'retry' | 'dead' | 'discarded' | 'release', ref: AttemptRef, at: Date, error: JobAttemptError): Promise<void> {
    const stored = storableAttemptError(error);
    return this.acks.write(op, ref, at.getTime(), encodeError(stored), stored.errorClass ?? '');
  }
}

function filterJson(filter: JobFilter, cap?: number): string {
  return JSON.stringify({
    name: filter.name,
    nameOrSchedule: filter.nameOrSchedule,
    queue: filter.queue,
    states: filter.states,
    finishedBefore: filter.finishedBefore?.getTime(),
    limit: filter.limit !== undefined && Number.isFinite(filter.limit) ? filter.limit : undefined,
    desc: filter.order !== 'asc',
    afterId: filter.afterId,
    // Empty lists are left out: cjson cannot tell `[]` from `{}`, and none filters anything.
    nameContains: filter.nameContains?.length ? filter.nameContains : undefined,
    tags: filter.tags?.length ? filter.tags : undefined,
    args: filter.args?.length ? filter.args : undefined,
    cap,
  });
}
