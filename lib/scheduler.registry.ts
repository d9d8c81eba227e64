import type { ScheduleJson } from './schedule/builder/schedule-json.js';
import type { RateLimitSpec } from './rate-limit/token-bucket.js';
import { Injectable } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { JsonObject, JsonValue } from './common/json.js';
import type { MisfirePolicy, OverlapPolicy, Preemptible } from './decorators/job-options.js';
import type { ResolvedUnique } from './discovery/unique.resolver.js';
import type { JobContext } from './execution/job-context.js';
import type { JobRetrySettings } from './errors/error-classifier.types.js';
import type { JobMiddleware } from './middleware/job-middleware.js';
import type { ScheduleSpec } from './schedule/schedule-spec.js';
import type { WorkflowDefinition } from './workflow/workflow.definition.js';
import { DuplicateJobError, JobNotFoundError } from './scheduler.errors.js';

/**
 * Job options with defaults applied and durations in milliseconds.
 * @internal
 */
export interface ResolvedJobOptions {
  queue: string;
  priority: number;
  timeout: number | null;
  maxAttempts: number;
  backoff: (attempt: number, error: unknown) => number;
  /** Whether `maxRetries` and the backoff were the job's own (decorator, worker method, runtime schedule), not the module's `defaults`. */
  explicit: { maxRetries: boolean; backoff: boolean };
  /** The handler's `unique`, or `null`: applies to its enqueued jobs (and ticks, see `overlap`). */
  unique: ResolvedUnique | null;
  overlap: OverlapPolicy;
  /** `catchUp` in milliseconds. */
  misfire: 'runOnce' | 'skip' | { catchUp: number };
  tags: string[];
  meta: JsonObject;
  middleware: Type<JobMiddleware>[];
  /** The circuit breaker guarding the job, or `null`. */
  circuitBreaker: string | null;
  /** The job's own `rateLimit` (decorator), as a bucket's shape. */
  rateLimit: RateLimitSpec | null;
  preemptible: Preemptible;
}

/**
 * A registered handler: a `@Scheduled` method or a `@Worker`.
 * @internal
 */
export interface JobDefinition {
  name: string;
  /** `ClassName.method`, for messages. */
  source: string;
  kind: 'method' | 'worker';
  /** The handler: a value, a promise of one, or a throw (the executor takes each as its outcome). */
  run(ctx: JobContext<unknown>): unknown;
  options: ResolvedJobOptions;
  /** The misfire policy as given (for display). */
  misfireInput?: MisfirePolicy;
  /** The Nest module that declares the job's class (middleware that isn't a provider is built there). */
  moduleRef?: ModuleRef;
  /** The scheduler's own jobs (workflow steps, rollbacks, starts): hidden from `all()`. */
  internal?: boolean;
  /** The `@Worker` class, for `enqueue(WorkerClass)`: found by identity, as two classes may share a name. */
  workerType?: Type<unknown>;
  /**
   * The module's middleware followed by the job's own, as instances: resolved
   * once at init, so that running a job never looks them up.
   */
  middleware?: JobMiddleware[];
}

/**
 * A schedule: a definition's own (static) or one inserted at runtime.
 * @internal
 */
export interface ScheduleEntry {
  name: string;
  handler: JobDefinition;
  spec: ScheduleSpec;
  options: ResolvedJobOptions;
  origin: 'static' | 'runtime';
  /** Arguments given to every run (runtime schedules); `{}` when none. */
  args?: JsonValue;
  /** The schedule as written (`cron`, `every`, `at`, `zone`), for display and storage. */
  input: { cron?: string | string[]; zone?: string; every?: string | number; at?: string; schedule?: ScheduleJson };
  /** One extra tick when the schedule is first registered in the store (the builder's `.runOnStart()`). @default false */
  runOnStart?: boolean;
}

/**
 * Registered handlers and schedules, by name. Filled at bootstrap.
 * @internal
 */
@Injectable()
export class SchedulerRegistry {
  private readonly definitions = new Map<string, JobDefinition>();
  private readonly schedules = new Map<string, ScheduleEntry>();
  private readonly workers = new Map<Type<unknown>, JobDefinition>();
  /** Definitions that run once when this node starts (`@reboot`). */
  readonly reboot: JobDefinition[] = [];
  /** `@Workflow` classes found at bootstrap. */
  readonly workflows: WorkflowDefinition[] = [];

  addDefinition(definition: JobDefinition): void {
    if (this.definitions.has(definition.name)) throw new DuplicateJobError(definition.name);
    this.definitions.set(definition.name, definition);
    if (definition.workerType) this.workers.set(definition.workerType, definition);
  }

  /** The job name of a `@Worker` class registered here; throws `JobNotFoundError` for any other class. */
  workerName(type: Type<unknown>): string {
    const found = this.workers.get(type);
    if (!found) throw new JobNotFoundError(type.name, '@Worker class');
    return found.name;
  }

  /** The definition of a handler, or throws `JobNotFoundError`. */
  definition(name: string): JobDefinition {
    const found = this.definitions.get(name);
    if (!found) throw new JobNotFoundError(name);
    return found;
  }

  findDefinition(name: string): JobDefinition | undefined {
    return this.definitions.get(name);
  }

  allDefinitions(): JobDefinition[] {
    return [...this.definitions.values()];
  }

  addSchedule(entry: ScheduleEntry): void {
    if (this.schedules.has(entry.name)) throw new DuplicateJobError(entry.name);
    this.schedules.set(entry.name, entry);
  }

  replaceSchedule(entry: ScheduleEntry): void {
    this.schedules.set(entry.name, entry);
  }

  removeSchedule(name: string): boolean {
    return this.schedules.delete(name);
  }

  findSchedule(name: string): ScheduleEntry | undefined {
    return this.schedules.get(name);
  }

  allSchedules(): ScheduleEntry[] {
    return [...this.schedules.values()];
  }

  /**
   * A job's own retry settings, which win over its error's class: the
   * explicit `maxRetries` and backoff of the schedule that planned it (a
   * runtime schedule may set its own), else of its handler; an enqueue's
   * `maxRetries` (a job whose `maxAttempts` differs from its handler's, as
   * do jobs given more attempts by a dead-letter retry or a hand-back). A
   * job whose handler is not registered here keeps its `maxAttempts`.
   */
  retrySettingsFor(job: { name: string; schedule: string | null; maxAttempts: number }): JobRetrySettings {
    const schedule = job.schedule === null ? undefined : this.schedules.get(job.schedule);
    // A schedule deleted and inserted again under the same name may run another handler.
    const options = schedule && schedule.handler.name === job.name ? schedule.options : this.definitions.get(job.name)?.options;
    const stored = job.maxAttempts - 1;
    if (!options) return { maxRetries: stored };
    const ownRetries = options.explicit.maxRetries || job.maxAttempts !== options.maxAttempts;
    return {
      ...(ownRetries ? { maxRetries: stored } : {}),
      ...(options.explicit.backoff ? { backoff: options.backoff } : {}),
      fallbackMaxRetries: stored,
    };
  }

  /**
   * The circuit breaker guarding a job: the one of the schedule that planned
   * it (a runtime schedule may name its own), else its handler's; `null` for none.
   */
  breakerFor(job: { name: string; schedule: string | null }): string | null {
    const schedule = job.schedule === null ? undefined : this.schedules.get(job.schedule);
    if (schedule && schedule.handler.name === job.name) return schedule.options.circuitBreaker;
    return this.definitions.get(job.name)?.options.circuitBreaker ?? null;
  }

  /** The names of the jobs a breaker guards (handlers, and the handlers of schedules naming it). */
  jobsOfBreaker(breaker: string): string[] {
    const names = new Set<string>();
    for (const definition of this.definitions.values()) if (definition.options.circuitBreaker === breaker) names.add(definition.name);
    for (const schedule of this.schedules.values()) if (schedule.options.circuitBreaker === breaker) names.add(schedule.handler.name);
    return [...names];
  }

  /** True when the name is taken by a handler or a schedule. */
  has(name: string): boolean {
    return this.definitions.has(name) || this.schedules.has(name);
  }
}
