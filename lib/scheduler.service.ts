import { Injectable, type Type } from '@nestjs/common';
import type { JsonValue } from './common/json.js';
import type { JobWorker } from './decorators/worker.decorator.js';
import type { WorkerArgs } from './queue/job.builder.js';
import type { OptionFailure } from './discovery/job-options.resolver.js';
import { scheduleJobBase } from './planner/planner.js';
import { buildRuntimeSchedule, toStoredDefinition, type RuntimeScheduleInput } from './schedule/runtime-schedule.js';
import { DeadLetters } from './dead-letters.js';
import { Workflows } from './workflow/workflow.service.js';
import { DuplicateJobError, InvalidArgumentError, JobNotFoundError, QueueNotFoundError } from './scheduler.errors.js';
import { buildJobs, jsonArgs } from './queue/job.builder.js';
import { SchedulerOrchestrator } from './scheduler.orchestrator.js';
import type { ScheduleEntry } from './scheduler.registry.js';
import type { EnqueuedJob, EnqueueOptions, HealthStatus, JobInfo, JobStatus, QueueStats } from './scheduler.types.js';
import { FINAL_STATES, type Job, type NewJob } from './store/job.types.js';
import type { SchedulerEventMap, SchedulerEventName } from './telemetry/scheduler.events.js';
import { captureTraceContext } from './telemetry/tracing.js';
import { describeJob } from './scheduler.describe.js';
import { checkDate } from './store/job-input.validation.js';


const invalid: OptionFailure = (option, detail) => {
  throw new InvalidArgumentError(option, detail);
};

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

  constructor(private readonly orchestrator: SchedulerOrchestrator) {
    this.deadLetters = new DeadLetters(() => this.s);
    this.workflows = new Workflows(() => this.s);
  }

  private get s(): SchedulerOrchestrator {
    return this.orchestrator.owner;
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
    const jobs = buildJobs(s, target, argsList, options);
    const results = await s.producer.insert(jobs, options.manager);
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
    const s = this.s;
    const entry = buildRuntimeSchedule(input, s.registry, s.options.queueNames, invalid, s.store.maxPayloadBytes);
    if (s.registry.has(entry.name)) throw new DuplicateJobError(entry.name);
    if (entry.spec.kind === 'at' && entry.spec.next(s.clock.now()) === null) throw new InvalidArgumentError('at', 'is in the past');
    const definition = toStoredDefinition(input);
    await s.store.saveSchedule({ name: entry.name, definition });
    await s.runtimeScheduleSaved(entry, definition);
    return describeJob.one(s, entry.name, false)!;
  }

  /** Changes a runtime schedule (decorated schedules are fixed in code). */
  async update(name: string, patch: Partial<Omit<RuntimeScheduleInput, 'name'>>): Promise<JobInfo> {
    const s = this.s;
    const current = this.runtimeSchedule(name);
    const stored = (await s.store.listSchedules()).find((x) => x.name === name);
    const previous = (stored?.definition ?? {}) as unknown as RuntimeScheduleInput;
    if (!patch || typeof patch !== 'object') throw new InvalidArgumentError('patch', 'must be an object');
    if ('name' in patch) throw new InvalidArgumentError('name', 'cannot be changed; delete and insert instead');
    const when = ['cron', 'every', 'at'].some((k) => k in patch);
    const merged: RuntimeScheduleInput = { ...previous, ...(when ? { cron: undefined, every: undefined, at: undefined, zone: undefined } : {}), ...patch, name };
    for (const key of Object.keys(merged) as (keyof RuntimeScheduleInput)[]) if (merged[key] === undefined) delete merged[key];
    const entry = buildRuntimeSchedule(merged, s.registry, s.options.queueNames, invalid, s.store.maxPayloadBytes);
    const definition = toStoredDefinition(merged);
    await s.store.saveSchedule({ name, definition });
    // A new rule starts from now; other changes keep the planning progress.
    if (current.spec.description !== entry.spec.description) s.planner.remove(name);
    await s.runtimeScheduleSaved(entry, definition);
    return this.getJob(name);
  }

  /** Deletes a runtime schedule. Jobs it already queued stay. */
  async delete(name: string): Promise<void> {
    const s = this.s;
    this.runtimeSchedule(name);
    await s.store.deleteSchedule(name);
    await s.runtimeScheduleDeleted(name);
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
    await this.setPaused(name, true);
  }

  /** Undoes `pauseJob`. Ticks missed while paused are not made up. */
  async resumeJob(name: string): Promise<void> {
    await this.setPaused(name, false);
    this.s.queues.wakeAll();
  }

  private async setPaused(name: string, paused: boolean): Promise<void> {
    const s = this.s;
    this.known(name);
    await s.store.setScheduleState(name, { paused });
    s.planner.setPaused(name, paused);
    await s.broadcast({ type: 'schedules' });
  }

  /** Runs a job or schedule now (a schedule's overlap rule still applies). */
  async runNow(name: string, args?: JsonValue): Promise<EnqueuedJob> {
    const s = this.s;
    const entry = s.registry.findSchedule(name);
    if (!entry) return this.enqueue(name, args);
    const now = new Date(s.clock.now());
    const job: NewJob = { ...scheduleJobBase(entry), ...(args === undefined ? {} : { args: jsonArgs(args, 'args', false, s.store.maxPayloadBytes).value }), runAt: now, scheduledAt: now, trace: captureTraceContext() };
    const [result] = await s.producer.insert([job]);
    if (!result!.inserted) s.events.emit('job:skip', { name: entry.handler.name, schedule: name, reason: 'overlap', job: result!.job, tick: null, duration: 0, outcome: 'skipped' });
    return { ...result!.job, duplicate: !result!.inserted };
  }

  /**
   * Cancels by job id (queued or running), or by name (every running and
   * queued job of it). A running job's signal is aborted with reason `cancel`.
   * Resolves to the number of jobs cancelled.
   */
  async cancelJob(idOrName: string, options: { reason?: string } = {}): Promise<number> {
    const s = this.s;
    if (typeof idOrName !== 'string' || !idOrName) throw new InvalidArgumentError('idOrName', 'must be a job id or name');
    const reason = options.reason ?? 'cancelled';
    const byId = await s.store.get(idOrName);
    const targets = byId
      ? [byId]
      : s.registry.has(idOrName)
        ? await s.store.list({ nameOrSchedule: idOrName, states: ['available', 'running'] })
        : null;
    if (!targets) throw new JobNotFoundError(idOrName);
    let count = 0;
    for (const job of targets) {
      const before = await s.store.cancel(job.id, new Date(s.clock.now()), reason);
      if (!before) continue;
      count++;
      if (before.state === 'running') {
        await s.notifier.notify({ type: 'cancel', jobId: job.id });
      } else {
        s.events.emit('job:cancel', { job: { ...before, state: 'cancelled' }, duration: 0, outcome: 'cancelled', reason });
      }
    }
    return count;
  }

  /** Jobs running now, on every node. */
  async runningJobs(): Promise<Job[]> {
    return this.s.store.list({ states: ['running'], order: 'asc' });
  }

  // ── queues ───────────────────────────────────────────────────────────

  /** Stops starting jobs of a queue (cluster-wide, kept across restarts). Running jobs finish. */
  async pauseQueue(queue: string): Promise<void> {
    await this.queueChange(queue, 'queue:pause', { paused: true }, (runner) => runner.setPaused(true));
  }

  async resumeQueue(queue: string): Promise<void> {
    await this.queueChange(queue, 'queue:resume', { paused: false }, (runner) => runner.setPaused(false));
  }

  /** Changes a queue's concurrency on every node (kept across restarts). */
  async scaleQueue(queue: string, concurrency: number): Promise<void> {
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
      throw new InvalidArgumentError('concurrency', `must be an integer from 1 to 10000, got ${String(concurrency)}`);
    }
    const from = this.s.queues.get(queue)?.limit;
    await this.queueChange(queue, 'queue:scale', { concurrency }, (runner) => runner.scale(concurrency), { from, to: concurrency });
  }

  private async queueChange(
    queue: string,
    event: 'queue:pause' | 'queue:resume' | 'queue:scale',
    patch: { paused?: boolean; concurrency?: number },
    apply: (runner: NonNullable<ReturnType<SchedulerOrchestrator['queues']['get']>>) => void,
    extra: { from?: number; to?: number } = {},
  ): Promise<void> {
    const s = this.s;
    if (typeof queue !== 'string' || !queue) throw new InvalidArgumentError('queue', 'must be a queue name');
    if (s.options.queues && !s.options.queues.has(queue)) throw new QueueNotFoundError(queue);
    const started = s.clock.now();
    await s.store.setQueueState(queue, patch);
    const runner = s.queues.get(queue);
    if (runner) apply(runner);
    await s.broadcast({ type: 'queues' });
    s.events.emit(event, { queue, duration: s.clock.now() - started, outcome: 'ok', ...extra });
  }

  /** Counts per queue, or for one queue. */
  async queueStats(): Promise<QueueStats[]>;
  async queueStats(queue: string): Promise<QueueStats>;
  async queueStats(queue?: string): Promise<QueueStats | QueueStats[]> {
    const s = this.s;
    if (queue !== undefined && s.options.queues && !s.options.queues.has(queue)) throw new QueueNotFoundError(queue);
    const counts = new Map((await s.store.queueCounts(new Date(s.clock.now()))).map((c) => [c.queue, c]));
    const states = new Map((await s.store.getQueueStates()).map((q) => [q.name, q]));
    const names = new Set([...(s.options.queues?.keys() ?? []), ...counts.keys()]);
    const stats = [...names].map((name): QueueStats => {
      const c = counts.get(name);
      const runner = s.queues.get(name);
      return {
        queue: name,
        concurrency: runner?.limit ?? null,
        paused: runner?.isPaused ?? states.get(name)?.paused ?? false,
        runningHere: runner?.busy ?? 0,
        available: c?.available ?? 0,
        scheduled: c?.scheduled ?? 0,
        running: c?.running ?? 0,
        completed: c?.completed ?? 0,
        dead: c?.dead ?? 0,
        discarded: c?.discarded ?? 0,
        cancelled: c?.cancelled ?? 0,
      };
    });
    return queue === undefined ? stats : stats.find((x) => x.queue === queue)!;
  }

  // ── monitoring ───────────────────────────────────────────────────────

  /** Finished runs of a job or schedule, newest first. @default limit 20 */
  async history(name: string, options: { limit?: number } = {}): Promise<Job[]> {
    this.known(name);
    const limit = options.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', 'must be a positive integer');
    return this.s.store.list({ nameOrSchedule: name, states: FINAL_STATES, limit });
  }

  /** The state of a job or schedule: running and queued counts, last run, next tick. */
  async status(name: string): Promise<JobStatus> {
    const s = this.s;
    const info = await this.getJob(name);
    const [last] = await s.store.list({ nameOrSchedule: name, states: FINAL_STATES, limit: 1 });
    return {
      name,
      paused: info.paused,
      running: await s.store.count({ nameOrSchedule: name, states: ['running'] }),
      queued: await s.store.count({ nameOrSchedule: name, states: ['available'] }),
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
    return {
      status: store.status,
      node: s.node,
      leader: s.peer.isLeader(),
      enabled: s.options.enabled,
      store,
      queues: s.queues.all().map((r) => ({ queue: r.name, paused: r.isPaused, concurrency: r.limit, running: r.busy })),
    };
  }

  /** Listens to a scheduler event; returns a function that stops listening. */
  on<E extends SchedulerEventName>(event: E, listener: (payload: SchedulerEventMap[E]) => void): () => void {
    return this.s.events.on(event, listener);
  }

  private known(name: string): void {
    if (typeof name !== 'string' || !this.s.registry.has(name)) throw new JobNotFoundError(String(name));
  }

  private runtimeSchedule(name: string): ScheduleEntry {
    const entry = this.s.registry.findSchedule(name);
    if (!entry) throw new JobNotFoundError(String(name), 'schedule');
    if (entry.origin !== 'runtime') throw new InvalidArgumentError('name', `"${name}" is defined in code; only schedules inserted at runtime can be changed or deleted`);
    return entry;
  }
}

