import { Injectable, type Type } from '@nestjs/common';
import type { JsonValue } from './common/json.js';
import type { ServicePorts } from './composition/scheduler.ports.js';
import type { BatchJob } from './batch/batch.types.js';
import type { JobWorker } from './decorators/worker.decorator.js';
import { DeadLetters } from './dead-letters.js';
import { CircuitBreakers } from './breakers/circuit-breakers.service.js';
import { SchedulerErrors } from './errors/errors.service.js';
import type { WorkerArgs } from './queue/job.builder.js';
import type { RuntimeScheduleInput } from './schedule/runtime-schedule.js';
import { everyUnits } from './schedule/builder/schedule-builder.factories.js';
import type { EveryPlural, EverySingular } from './schedule/builder/schedule-builder.types.js';
import type { RunnableSchedule, ScheduleDoOptions } from './schedule/builder/runnable-schedule.types.js';
import { InvalidArgumentError } from './scheduler.errors.js';
import { SchedulerHost } from './scheduler.host.js';
import type { EnqueuedJob, EnqueueOptions, HealthStatus, JobInfo, JobListFilter, JobStatus, QueueStats, SchedulerNode } from './scheduler.types.js';
import { listNodes } from './service/node.calls.js';
import { findJob, listJobs, nextRuns } from './service/job-query.calls.js';
import { deleteJob, runJobNow } from './service/job-control.calls.js';
import { cancelJobs, enqueueJobs, runScheduleNow } from './service/job.calls.js';
import { healthCheck, jobHistory, jobStatus } from './service/monitoring.calls.js';
import { changeQueue, queueStats, scaleQueue } from './service/queue.calls.js';
import { deleteSchedule, describeAll, describeOne, insertSchedule, setSchedulePaused, updateSchedule } from './service/schedule.calls.js';
import type { Job } from './store/job.types.js';
import type { SchedulerHealthOptions, SchedulerHealthReport } from './health/health.types.js';
import type { SchedulerEventMap, SchedulerEventName } from './telemetry/scheduler.events.js';
import { checkDate } from './store/job-input.validation.js';
import { Workflows } from './workflow/workflow.service.js';
import { RateLimits } from './rate-limit/rate-limits.service.js';
import { describeConfig, type ConfigDescription } from './service/config.describe.js';

/**
 * The runtime API: schedules, job and queue control, enqueueing,
 * monitoring and dead letters. Every call validates its arguments first and
 * rejects with a typed error, changing nothing, when they are bad.
 * @publicApi
 */
@Injectable()
export class SchedulerService {
  /** Jobs whose attempts are all spent: list, inspect, retry, delete. */
  readonly deadLetters: DeadLetters;
  /** Workflows: start, schedule, pause, resume, cancel and inspect runs. */
  readonly workflows: Workflows;
  /** Circuit breakers: state, reset, registration at runtime. */
  readonly circuitBreakers: CircuitBreakers;
  /** How failures are treated: `classify(error)` and `nextAction(error, attempt)`. */
  readonly errors: SchedulerErrors;
  /**
   * The lifeline: `checkNow()` runs a rescue pass at once (jobs of dead
   * nodes back to available, or dead when their attempts are spent) and
   * resolves with the jobs it moved; on a follower it rejects with `NotLeaderError`.
   */
  readonly lifeline: { checkNow(): Promise<Job[]> };
  /** Rate limits: the tokens of each bucket (`status`). */
  readonly rateLimits: RateLimits;

  /** @internal */
  constructor(private readonly host: SchedulerHost) {
    this.deadLetters = new DeadLetters(() => this.host.ports.deadLetters);
    this.workflows = new Workflows(() => this.host.ports.workflows);
    this.circuitBreakers = new CircuitBreakers(() => this.host.ports.breakers);
    this.errors = new SchedulerErrors(() => this.host.ports.errors);
    this.lifeline = { checkNow: () => this.host.ports.lifeline.checkNow() };
    this.rateLimits = new RateLimits(() => this.host.ports.rateLimits);
  }

  private get s(): ServicePorts {
    return this.host.ports.service;
  }

  // ── queued work ──────────────────────────────────────────────────────

  /** Enqueues one job for a registered handler (by name or worker class). */
  async enqueue<W extends JobWorker<unknown> | BatchJob<unknown, JsonValue, unknown>>(
    worker: Type<W>,
    args: WorkerArgs<W>,
    options?: EnqueueOptions,
  ): Promise<EnqueuedJob<WorkerArgs<W>>>;
  async enqueue<TArgs extends JsonValue = JsonValue>(name: string, args?: TArgs, options?: EnqueueOptions): Promise<EnqueuedJob<TArgs>>;
  async enqueue(target: string | Type<unknown>, args?: unknown, options: EnqueueOptions = {}): Promise<EnqueuedJob> {
    const [job] = await enqueueJobs(this.s, target, [args ?? {}], options);
    return job!;
  }

  /** Enqueues one job to run at `date`. */
  async enqueueAt<TArgs extends JsonValue = JsonValue>(
    target: string | Type<unknown>,
    args: TArgs,
    date: Date,
    options: Omit<EnqueueOptions, 'delay' | 'runAt'> = {},
  ): Promise<EnqueuedJob<TArgs>> {
    checkDate('date', date);
    const [job] = await enqueueJobs(this.s, target, [args], { ...options, runAt: date });
    return job as EnqueuedJob<TArgs>;
  }

  /** Enqueues many jobs of one handler in one store call. */
  async enqueueMany<TArgs extends JsonValue = JsonValue>(
    target: string | Type<unknown>,
    argsList: readonly TArgs[],
    options: EnqueueOptions = {},
  ): Promise<EnqueuedJob<TArgs>[]> {
    if (!Array.isArray(argsList)) throw new InvalidArgumentError('argsList', 'must be an array');
    return (await enqueueJobs(this.s, target, argsList, options)) as EnqueuedJob<TArgs>[];
  }

  // ── schedules ────────────────────────────────────────────────────────

  /** Creates a schedule at runtime for a registered handler; it is stored and survives restarts. */
  async insert(input: RuntimeScheduleInput): Promise<JobInfo> {
    return insertSchedule(this.s, input);
  }

  /**
   * Starts a fluent runtime schedule that ends with `.do(name, handler)`:
   * `await scheduler.every(5).minutes().do('healthcheck', 'ping')` inserts it
   * (as `insert({ name, handler, schedule })`) and resolves to its `JobInfo`.
   * Without `n`: one unit between runs (singular units).
   */
  every(): EverySingular<RunnableSchedule>;
  /**
   * The same, `n` units between runs (plural units: `.minutes()`, `.days()` …).
   * @param n how many units between runs.
   */
  every(n: number): EveryPlural<RunnableSchedule>;
  every(n?: number): EverySingular<RunnableSchedule> | EveryPlural<RunnableSchedule> {
    return everyUnits(n, async (schedule, [name, handler, options]) => {
      // A class is a @Worker's; any other function is refused there (JobNotFoundError), as no code is stored.
      const target = typeof handler === 'function' ? this.s.registry.workerName(handler as Type<unknown>) : (handler as string);
      return await this.insert({ ...(options as ScheduleDoOptions), name: name as string, handler: target, schedule });
    }) as EverySingular<RunnableSchedule> & EveryPlural<RunnableSchedule>;
  }

  /** Changes a runtime schedule (decorated schedules are fixed in code). */
  async update(name: string, patch: Partial<Omit<RuntimeScheduleInput, 'name'>>): Promise<JobInfo> {
    await updateSchedule(this.s, name, patch);
    return this.getJob(name);
  }

  /** Deletes a runtime schedule. Jobs it already queued stay. */
  async delete(name: string): Promise<void> {
    await deleteSchedule(this.s, name);
  }

  /** Every registered job and schedule. */
  async all(): Promise<JobInfo[]> {
    return describeAll(this.s);
  }

  /** One job or schedule by name; rejects with `JobNotFoundError`. */
  async getJob(name: string): Promise<JobInfo> {
    return describeOne(this.s, name);
  }

  // ── job control ──────────────────────────────────────────────────────

  /**
   * Stops planning ticks for a job or schedule and starting its queued jobs
   * (cluster-wide). Resolves once the pause holds on this node; other nodes
   * apply it when its notice reaches them.
   */
  async pauseJob(name: string): Promise<void> {
    await setSchedulePaused(this.s, name, true);
  }

  /** Undoes `pauseJob`. Ticks missed while paused are not made up. */
  async resumeJob(name: string): Promise<void> {
    await setSchedulePaused(this.s, name, false);
    this.s.queues.wakeAll();
  }

  /** Runs a job or schedule now (a schedule's overlap rule still applies). */
  async runNow(name: string, args?: JsonValue): Promise<EnqueuedJob> {
    if (!this.s.registry.findSchedule(name)) return this.enqueue(name, args);
    return runScheduleNow(this.s, name, args);
  }

  /**
   * Cancels by job id (queued or running), or by name (every running and
   * queued job of it). A running job's signal is aborted with reason `cancel`.
   * Resolves to the number of jobs cancelled.
   */
  async cancelJob(idOrName: string, options: { reason?: string } = {}): Promise<number> {
    return cancelJobs(this.s, idOrName, options.reason ?? 'cancelled');
  }

  /**
   * Makes a waiting job (`available`, due later: a delay, a retry's backoff,
   * a future run time) due now, its attempts and priority unchanged, and
   * wakes the runners of its queue on every node. A job due already stays
   * as it is. Resolves to the job.
   * @throws JobNotFoundError when no job has this id.
   * @throws JobStateError when it is not waiting (running or finished).
   */
  async runJobNow(id: string): Promise<Job> {
    return runJobNow(this.s, id);
  }

  /**
   * Deletes a job that is not running: a waiting one (it will not run) or a
   * finished one (its history goes). A job claimed in the instant between
   * the check and the delete is deleted while it runs; its acknowledgement
   * then finds nothing to change.
   * @throws JobNotFoundError when no job has this id.
   * @throws JobStateError for a running job: cancel it first (`cancelJob`).
   */
  async deleteJob(id: string): Promise<void> {
    await deleteJob(this.s, id);
  }

  /** One job by id (any state), or `null` when there is none. @throws InvalidArgumentError for an id that is not digits */
  async findJob(id: string): Promise<Job | null> {
    return findJob(this.s, id);
  }

  /**
   * Jobs matching `filter`, newest first: one page of `limit` (100 by
   * default); the next page is `{ ...filter, afterId: <last id> }` (keyset
   * paging, stable while jobs are inserted).
   */
  async listJobs(filter: JobListFilter = {}): Promise<Job[]> {
    return listJobs(this.s, filter);
  }

  /**
   * The next `count` ticks of a schedule after `from`, as the planner will
   * plan them. Throws `JobNotFoundError` for a name that is not a schedule.
   * @param count @default 5
   * @param from @default now
   */
  nextRuns(name: string, count = 5, from?: Date): Date[] {
    return nextRuns(this.s, name, count, from);
  }

  /** Jobs running now, on every node. */
  async runningJobs(): Promise<Job[]> {
    return this.s.store.list({ states: ['running'], order: 'asc' });
  }

  // ── queues ───────────────────────────────────────────────────────────

  /**
   * Stops starting jobs of a queue (cluster-wide, kept across restarts).
   * Running jobs finish. Resolves once the pause holds on this node; other
   * nodes apply it when its notice reaches them.
   */
  async pauseQueue(queue: string): Promise<void> {
    await changeQueue(this.s, queue, 'queue:pause', { paused: true }, (runner) => runner.setPaused(true));
  }

  /** Undoes `pauseQueue` (cluster-wide). */
  async resumeQueue(queue: string): Promise<void> {
    await changeQueue(this.s, queue, 'queue:resume', { paused: false }, (runner) => runner.setPaused(false));
  }

  /** Changes a queue's concurrency on every node (kept across restarts). */
  async scaleQueue(queue: string, concurrency: number): Promise<void> {
    await scaleQueue(this.s, queue, concurrency);
  }

  /** Counts per queue, or for one queue. */
  async queueStats(): Promise<QueueStats[]>;
  async queueStats(queue: string): Promise<QueueStats>;
  async queueStats(queue?: string): Promise<QueueStats | QueueStats[]> {
    const stats = await queueStats(this.s, queue);
    return queue === undefined ? stats : stats[0]!;
  }

  // ── monitoring ───────────────────────────────────────────────────────

  /** Finished runs of a job or schedule, newest first. @default limit 20 */
  async history(name: string, options: { limit?: number } = {}): Promise<Job[]> {
    return jobHistory(this.s, name, options.limit ?? 20);
  }

  /** The state of a job or schedule: running and queued counts, last run, next tick. */
  async status(name: string): Promise<JobStatus> {
    return jobStatus(this.s, await this.getJob(name));
  }

  /**
   * The live nodes of the cluster, by name: each as it last recorded itself
   * in the store's node registry (every `lifeline.heartbeat`, live for
   * `lifeline.rescueAfter`), with the leader and its running jobs by queue.
   * This node is always among them. On a store without a registry, the
   * others are the nodes named on running jobs (no beat, no version).
   */
  async nodes(): Promise<SchedulerNode[]> {
    return listNodes(this.s);
  }

  /** True when this node plans ticks. */
  isLeader(): boolean {
    return this.s.peer.isLeader();
  }

  /** The leader's node name, or `null`. */
  async leaderNode(): Promise<string | null> {
    return this.s.peer.leaderNode();
  }

  /**
   * This node's view of the scheduler, for a health endpoint.
   * @deprecated Use {@link health}: it judges the loop, the store, the
   * leader, queue lag, stuck jobs and dead letters, and has the
   * orchestrator probes as presets (`health({ checks: 'liveness' })`).
   */
  async healthCheck(): Promise<HealthStatus> {
    return healthCheck(this.s);
  }

  /**
   * The effective module options (durations in ms) and the source of each:
   * `code`, `env` (with the variable, for options read by
   * `nestjs-scheduler/config`) or `default`. URL passwords, keys and tokens are redacted.
   */
  describeConfig(): ConfigDescription {
    return describeConfig(this.s.options);
  }

  /**
   * This node's health: the checks `options.checks` names (a preset such
   * as `'liveness'`, or a list; the six checks `loop`, `store`, `leader`,
   * `lag`, `stuck`, `deadLetters` by default), each `up`, `degraded` or
   * `down`, with the node, the leader and each queue's lag. Needs no
   * `@nestjs/terminus` (`nestjs-scheduler/terminus` wraps it). See docs/health.md.
   */
  async health(options: SchedulerHealthOptions = {}): Promise<SchedulerHealthReport> {
    return this.host.ports.health.report(options);
  }

  /** Listens to a scheduler event; returns a function that stops listening. */
  on<E extends SchedulerEventName>(event: E, listener: (payload: SchedulerEventMap[E]) => void): () => void {
    return this.s.events.on(event, listener);
  }
}
