import { Injectable, type Type } from '@nestjs/common';
import type { JsonValue } from './common/json.js';
import type { ServicePorts } from './composition/scheduler.ports.js';
import type { JobWorker } from './decorators/worker.decorator.js';
import { DeadLetters } from './dead-letters.js';
import { buildJobs, type WorkerArgs } from './queue/job.builder.js';
import type { RuntimeScheduleInput } from './schedule/runtime-schedule.js';
import { describeJob } from './scheduler.describe.js';
import { InvalidArgumentError, JobNotFoundError } from './scheduler.errors.js';
import { SchedulerHost } from './scheduler.host.js';
import type { EnqueuedJob, EnqueueOptions, HealthStatus, JobInfo, JobStatus, QueueStats } from './scheduler.types.js';
import { cancelJobs, runScheduleNow } from './service/job.calls.js';
import { changeQueue, queueStats } from './service/queue.calls.js';
import { deleteSchedule, insertSchedule, known, setSchedulePaused, updateSchedule } from './service/schedule.calls.js';
import { FINAL_STATES, type Job } from './store/job.types.js';
import type { SchedulerEventMap, SchedulerEventName } from './telemetry/scheduler.events.js';
import { checkDate } from './store/job-input.validation.js';
import { Workflows } from './workflow/workflow.service.js';

/**
 * The runtime API: schedules, job and queue control, enqueueing,
 * monitoring and dead letters. Every call validates its arguments first and
 * rejects with a typed error, changing nothing, when they are bad.
 */
@Injectable()
export class SchedulerService {
  /** Jobs whose attempts are all spent: list, inspect, retry, delete. */
  readonly deadLetters: DeadLetters;
  /** Workflows: start, schedule, pause, resume, cancel and inspect runs. */
  readonly workflows: Workflows;

  constructor(private readonly host: SchedulerHost) {
    this.deadLetters = new DeadLetters(() => this.host.ports.deadLetters);
    this.workflows = new Workflows(() => this.host.ports.workflows);
  }

  private get s(): ServicePorts {
    return this.host.ports.service;
  }

  // ── queued work ──────────────────────────────────────────────────────

  /** Enqueues one job for a registered handler (by name or worker class). */
  async enqueue<W extends JobWorker<unknown>>(worker: Type<W>, args: WorkerArgs<W>, options?: EnqueueOptions): Promise<EnqueuedJob<WorkerArgs<W>>>;
  async enqueue<TArgs extends JsonValue = JsonValue>(name: string, args?: TArgs, options?: EnqueueOptions): Promise<EnqueuedJob<TArgs>>;
  async enqueue(target: string | Type<unknown>, args?: unknown, options: EnqueueOptions = {}): Promise<EnqueuedJob> {
    const [job] = await this.insertJobs(target, [args ?? {}], options);
    return job!;
  }

  /** Enqueues one job to run at `date`. */
  async enqueueAt<TArgs extends JsonValue = JsonValue>(target: string | Type<unknown>, args: TArgs, date: Date, options: Omit<EnqueueOptions, 'delay' | 'runAt'> = {}): Promise<EnqueuedJob<TArgs>> {
    checkDate('date', date);
    const [job] = await this.insertJobs(target, [args], { ...options, runAt: date });
    return job as EnqueuedJob<TArgs>;
  }

  /** Enqueues many jobs of one handler in one store call. */
  async enqueueMany<TArgs extends JsonValue = JsonValue>(target: string | Type<unknown>, argsList: readonly TArgs[], options: EnqueueOptions = {}): Promise<EnqueuedJob<TArgs>[]> {
    if (!Array.isArray(argsList)) throw new InvalidArgumentError('argsList', 'must be an array');
    return (await this.insertJobs(target, argsList, options)) as EnqueuedJob<TArgs>[];
  }

  private async insertJobs(target: string | Type<unknown>, argsList: readonly unknown[], options: EnqueueOptions): Promise<EnqueuedJob[]> {
    const s = this.s;
    const results = await s.producer.insert(buildJobs(s.jobs, target, argsList, options), options.manager);
    return results.map(({ job, inserted }) => {
      if (!inserted) {
        s.events.emit('job:skip', { name: job.name, schedule: null, reason: 'unique', job, tick: null, duration: 0, outcome: 'skipped' });
      }
      // The store's job is a fresh copy, ours to complete (no second copy per job).
      const enqueued = job as EnqueuedJob;
      enqueued.duplicate = !inserted;
      return enqueued;
    });
  }

  // ── schedules ────────────────────────────────────────────────────────

  /** Creates a schedule at runtime for a registered handler; it is stored and survives restarts. */
  async insert(input: RuntimeScheduleInput): Promise<JobInfo> {
    return insertSchedule(this.s, input);
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
    const s = this.s;
    const paused = new Set((await s.store.getScheduleStates()).filter((x) => x.paused).map((x) => x.name));
    return describeJob.all(s, paused);
  }

  /** One job or schedule by name; rejects with `JobNotFoundError`. */
  async getJob(name: string): Promise<JobInfo> {
    const s = this.s;
    if (typeof name !== 'string' || !s.registry.has(name)) throw new JobNotFoundError(String(name));
    const paused = (await s.store.getScheduleStates()).some((x) => x.name === name && x.paused);
    return describeJob.one(s, name, paused)!;
  }

  // ── job control ──────────────────────────────────────────────────────

  /** Stops planning ticks for a job or schedule and starting its queued jobs (cluster-wide). */
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

  /** Jobs running now, on every node. */
  async runningJobs(): Promise<Job[]> {
    return this.s.store.list({ states: ['running'], order: 'asc' });
  }

  // ── queues ───────────────────────────────────────────────────────────

  /** Stops starting jobs of a queue (cluster-wide, kept across restarts). Running jobs finish. */
  async pauseQueue(queue: string): Promise<void> {
    await changeQueue(this.s, queue, 'queue:pause', { paused: true }, (runner) => runner.setPaused(true));
  }

  async resumeQueue(queue: string): Promise<void> {
    await changeQueue(this.s, queue, 'queue:resume', { paused: false }, (runner) => runner.setPaused(false));
  }

  /** Changes a queue's concurrency on every node (kept across restarts). */
  async scaleQueue(queue: string, concurrency: number): Promise<void> {
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
      throw new InvalidArgumentError('concurrency', `must be an integer from 1 to 10000, got ${String(concurrency)}`);
    }
    const from = this.s.queues.get(queue)?.limit;
    await changeQueue(this.s, queue, 'queue:scale', { concurrency }, (runner) => runner.scale(concurrency), { from, to: concurrency });
  }

  /** Counts per queue, or for one queue. */
  async queueStats(): Promise<QueueStats[]>;
  async queueStats(queue: string): Promise<QueueStats>;
  async queueStats(queue?: string): Promise<QueueStats | QueueStats[]> {
    const stats = await queueStats(this.s, queue);
    return queue === undefined ? stats : stats.find((x) => x.queue === queue)!;
  }

  // ── monitoring ───────────────────────────────────────────────────────

  /** Finished runs of a job or schedule, newest first. @default limit 20 */
  async history(name: string, options: { limit?: number } = {}): Promise<Job[]> {
    known(this.s, name);
    const limit = options.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', 'must be a positive integer');
    return this.s.store.list({ nameOrSchedule: name, states: FINAL_STATES, limit });
  }

  /** The state of a job or schedule: running and queued counts, last run, next tick. */
  async status(name: string): Promise<JobStatus> {
    const { store } = this.s;
    const info = await this.getJob(name);
    const [last] = await store.list({ nameOrSchedule: name, states: FINAL_STATES, limit: 1 });
    return {
      name,
      paused: info.paused,
      running: await store.count({ nameOrSchedule: name, states: ['running'] }),
      queued: await store.count({ nameOrSchedule: name, states: ['available'] }),
      lastRun: last ?? null,
      lastOutcome: last?.state ?? null,
      lastRunAt: last?.startedAt ?? null,
      nextRunAt: info.nextRunAt,
    };
  }

  /** True when this node plans ticks. */
  isLeader(): boolean {
    return this.s.peer.isLeader();
  }

  /** The leader's node name, or `null`. */
  async leaderNode(): Promise<string | null> {
    return this.s.peer.leaderNode();
  }

  /** This node's view of the scheduler, for a health endpoint. */
  async healthCheck(): Promise<HealthStatus> {
    const s = this.s;
    let store: HealthStatus['store'] = { status: 'up' };
    try {
      await s.store.ping();
    } catch (error) {
      store = { status: 'down', error: (error as Error)?.message ?? String(error) };
    }
    const queues = s.queues.all().map((r) => ({ queue: r.name, paused: r.isPaused, concurrency: r.limit, running: r.busy }));
    return { status: store.status, node: s.node, leader: s.peer.isLeader(), enabled: s.enabled, store, queues };
  }

  /** Listens to a scheduler event; returns a function that stops listening. */
  on<E extends SchedulerEventName>(event: E, listener: (payload: SchedulerEventMap[E]) => void): () => void {
    return this.s.events.on(event, listener);
  }
}
