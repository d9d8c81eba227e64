import { Inject, Injectable, Logger, type Type } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { ScheduledOptions, WorkerOptions } from '../decorators/job-options.js';
import type { JobWorker } from '../decorators/worker.decorator.js';
import { resolveBatchSettings } from '../batch/batch.options.js';
import { runBatch } from '../batch/batch.runner.js';
import type { BatchJob, BatchWorkerOptions } from '../batch/batch.types.js';
import type { JobContext } from '../execution/job-context.js';
import { builderSchedule, withBuilderPolicies } from '../schedule/builder/builder-schedule.js';
import { compileSchedule, isReboot } from '../schedule/schedule-spec.js';
import { SCHEDULER_OPTIONS } from '../scheduler.constants.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { ResolvedOptions } from '../scheduler.options.js';
import { SchedulerRegistry, type JobDefinition, type ScheduleEntry } from '../scheduler.registry.js';
import { exploreWorkflow } from '../workflow/workflow.discovery.js';
import { assertScheduleOptions, resolveJobOptions } from './job-options.resolver.js';
import { validateJobName } from './names.js';
import { SchedulerMetadataAccessor, type ProviderMetadata } from './scheduler-metadata.accessor.js';

/**
 * Walks every provider once at bootstrap (DiscoveryService) and registers
 * each `@Scheduled` method, `@Worker` class and `@Workflow` class,
 * validating its options. The first bad option stops bootstrap with a
 * `SchedulerConfigError` that names `ClassName.method` and the option; so
 * does an option that would be ignored (`overlap` or `misfire` without a
 * schedule), and a `@Scheduled` method or `@Worker` on a `@Workflow` class.
 * Request-scoped and transient providers are skipped with a warning.
 * @internal
 */
@Injectable()
export class SchedulerExplorer {
  private readonly logger = new Logger('Scheduler');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly metadata: SchedulerMetadataAccessor,
    private readonly registry: SchedulerRegistry,
    @Inject(SCHEDULER_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  explore(): void {
    const queues = this.options.queueNames;
    for (const wrapper of this.discovery.getProviders()) {
      const { instance, metatype } = wrapper;
      if (!instance || typeof instance !== 'object' || typeof metatype !== 'function') continue;
      const found = this.metadata.read(metatype, Object.getPrototypeOf(instance) as object);
      if (!found) continue;
      const className = metatype.name;
      if (!this.isStatic(wrapper)) {
        this.logger.warn(
          `${className} is request- or transient-scoped: its jobs and workflows are not registered. They run outside any request; make the provider a singleton (the default scope).`,
        );
        continue;
      }
      if (found.workflow !== undefined || found.steps.length > 0) {
        assertOnlyWorkflow(className, found);
        this.registry.workflows.push(exploreWorkflow(instance, className, found, queues)!);
        continue;
      }
      const moduleRef = wrapper.host?.getProviderByKey(ModuleRef)?.instance as ModuleRef | undefined;
      if (found.worker) this.addWorker(instance as Partial<JobWorker & BatchJob>, metatype as Type<unknown>, found.worker, queues, moduleRef, found.batch);
      for (const { method, options } of found.scheduled) {
        const source = `${className}.${method}`;
        // Called through the instance, so a wrapper installed by an instanceDecorator sees every job.
        const fn = (instance as Record<string, (ctx: JobContext<unknown>) => unknown>)[method]!;
        // Not `async`: the executor takes a value, a promise or a throw alike, and an async wrapper cost a promise and a microtask a job.
        this.add(source, options.name ?? source, 'method', (ctx) => fn.call(instance, ctx), options, queues, moduleRef);
      }
    }
  }

  private isStatic(wrapper: InstanceWrapper): boolean {
    return wrapper.isDependencyTreeStatic() && !wrapper.isTransient;
  }

  private addWorker(
    instance: Partial<JobWorker & BatchJob>,
    type: Type<unknown>,
    options: WorkerOptions,
    queues: ReadonlySet<string> | null,
    moduleRef?: ModuleRef,
    batch?: BatchWorkerOptions,
  ): void {
    const className = type.name;
    if (batch) {
      for (const method of ['fetchItems', 'processItem'] as const) {
        if (typeof instance[method] !== 'function') throw new SchedulerConfigError(className, method, `a @BatchWorker class must implement ${method}`);
      }
      const settings = resolveBatchSettings(batch, (option, detail) => {
        throw new SchedulerConfigError(className, option, detail);
      });
      const job = instance as BatchJob;
      this.add(className, options.name ?? className, 'worker', (ctx) => runBatch(job, settings, ctx), options, queues, moduleRef, undefined, type);
      return;
    }
    if (typeof instance.perform !== 'function') {
      throw new SchedulerConfigError(className, 'perform', 'a @Worker class must implement perform(ctx)');
    }
    const perform = instance.perform.bind(instance);
    const backoff = typeof instance.backoff === 'function' ? instance.backoff.bind(instance) : undefined;
    this.add(className, options.name ?? className, 'worker', (ctx) => perform(ctx), options, queues, moduleRef, backoff, type);
  }

  private add(
    source: string,
    name: string,
    kind: JobDefinition['kind'],
    run: JobDefinition['run'],
    options: ScheduledOptions,
    queues: ReadonlySet<string> | null,
    moduleRef: ModuleRef | undefined,
    workerBackoff?: (attempt: number, error: unknown) => number,
    workerType?: Type<unknown>,
  ): void {
    const fail = (option: string, detail: string): never => {
      throw new SchedulerConfigError(source, option, detail);
    };
    validateJobName(name, fail);
    const existing = this.registry.findDefinition(name) ?? this.registry.findSchedule(name);
    if (existing) {
      const other = 'source' in existing ? existing.source : existing.handler.source;
      fail('name', `duplicate job name "${name}" (also used by ${other})`);
    }
    const built = builderSchedule(options, fail);
    const merged = built ? withBuilderPolicies(options, built, fail) : options;
    const resolved = resolveJobOptions(merged, fail, queues, { workerBackoff, defaults: this.options.defaults });
    const input = { cron: options.cron, zone: options.zone, every: options.every, at: options.at };
    const reboot = !built && isReboot(input);
    if (reboot && input.zone !== undefined) fail('zone', 'does not apply to @reboot');
    const spec = built ? built.spec : reboot ? null : compileSchedule(input, source);
    assertScheduleOptions(merged, reboot ? 'reboot' : spec ? 'ticks' : 'none', fail);
    const definition: JobDefinition = { name, source, kind, run, options: resolved, misfireInput: merged.misfire, moduleRef, workerType };
    this.registry.addDefinition(definition);
    if (reboot) {
      this.registry.reboot.push(definition);
      return;
    }
    if (!spec) return;
    const entry: ScheduleEntry = {
      name,
      handler: definition,
      spec,
      options: resolved,
      origin: 'static',
      input: built ? { schedule: built.json } : displayInput(input),
      ...(built?.runOnStart && { runOnStart: true }),
    };
    if (spec.kind === 'at' && spec.next(this.options.clock.now()) === null) {
      this.logger.warn(`${source}: "at" ${String(input.at)} is in the past; it will not run`);
    }
    this.registry.addSchedule(entry);
  }
}

/**
 * A `@Workflow` class's methods are its steps; a job on it would be skipped
 * or confused with a step, so bootstrap stops and says where a job belongs.
 */
function assertOnlyWorkflow(className: string, found: ProviderMetadata): void {
  if (found.workflow === undefined) return;
  if (found.worker !== undefined) {
    throw new SchedulerConfigError(
      className,
      'Worker',
      'a class cannot be both a @Workflow and a @Worker; enqueue the workflow through SchedulerService.workflows, or make the worker its own class',
    );
  }
  const job = found.scheduled[0];
  if (job) {
    throw new SchedulerConfigError(
      `${className}.${job.method}`,
      'Scheduled',
      '@Scheduled is not allowed in a @Workflow class (its methods are steps); to start the workflow on a schedule use @Workflow({ name, schedule: { cron } }), and move a separate job to another provider',
    );
  }
}

/**
 * The schedule as JSON (for `all()`, `getJob()` and storage).
 * @internal
 */
export function displayInput(input: { cron?: string | readonly string[]; zone?: string; every?: unknown; at?: Date | string }): ScheduleEntry['input'] {
  const out: ScheduleEntry['input'] = {};
  if (input.cron !== undefined) out.cron = typeof input.cron === 'string' ? input.cron : [...input.cron];
  if (input.zone !== undefined) out.zone = input.zone;
  if (input.every !== undefined) out.every = typeof input.every === 'number' || typeof input.every === 'string' ? input.every : JSON.stringify(input.every);
  if (input.at !== undefined) out.at = input.at instanceof Date ? input.at.toISOString() : input.at;
  return out;
}
