import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { ScheduledOptions, WorkerOptions } from '../decorators/job-options.js';
import type { JobWorker } from '../decorators/worker.decorator.js';
import type { JobContext } from '../execution/job-context.js';
import { compileSchedule, isReboot } from '../schedule/schedule-spec.js';
import { SCHEDULED_METADATA, SCHEDULER_OPTIONS, WORKER_METADATA } from '../scheduler.constants.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { ResolvedOptions } from '../scheduler.options.js';
import { SchedulerRegistry, type JobDefinition, type ScheduleEntry } from '../scheduler.registry.js';
import { assertScheduleOptions, resolveJobOptions } from './job-options.resolver.js';
import { validateJobName } from './names.js';
import { exploreWorkflow } from '../workflow/workflow.discovery.js';

/**
 * Walks every provider once at bootstrap (DiscoveryService) and registers
 * each `@Scheduled` method and `@Worker` class, validating its options.
 * The first bad option stops bootstrap with a `SchedulerConfigError` that
 * names `ClassName.method` and the option; so does an option that would be
 * ignored (`overlap` or `misfire` without a schedule).
 */
@Injectable()
export class SchedulerExplorer {
  private readonly logger = new Logger('Scheduler');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly registry: SchedulerRegistry,
    @Inject(SCHEDULER_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  explore(): void {
    const queues = this.options.queueNames;
    for (const wrapper of this.discovery.getProviders()) {
      const { instance, metatype } = wrapper;
      if (!instance || typeof instance !== 'object' || typeof metatype !== 'function') continue;
      const className = metatype.name;
      const workflow = exploreWorkflow(instance, metatype, this.reflector, this.scanner, queues);
      if (workflow) {
        this.registry.workflows.push(workflow);
        continue;
      }
      const worker = this.reflector.get<WorkerOptions | undefined>(WORKER_METADATA, metatype);
      // Metadata is read off the class's own methods, not the instance's: an
      // `instrument.instanceDecorator` (APM agents, @nestjs/observe) may hand
      // out wrapped methods that carry none. Handlers still run through the
      // instance, so the wrapper sees every job.
      const prototype = Object.getPrototypeOf(instance) as Record<string, never>;
      const methods = this.scanner
        .getAllMethodNames(prototype)
        .map((method) => ({ method, options: this.reflector.get<ScheduledOptions | undefined>(SCHEDULED_METADATA, prototype[method]) }))
        .filter((m): m is { method: string; options: ScheduledOptions } => m.options !== undefined);
      if (!worker && methods.length === 0) continue;
      if (!this.isStatic(wrapper)) {
        this.logger.warn(
          `${className} is request- or transient-scoped: its jobs are not registered. Jobs run outside any request; make the provider a singleton (the default scope).`,
        );
        continue;
      }
      const moduleRef = wrapper.host?.getProviderByKey(ModuleRef)?.instance as ModuleRef | undefined;
      if (worker) this.addWorker(instance as Partial<JobWorker>, className, worker, queues, moduleRef);
      for (const { method, options } of methods) {
        const source = `${className}.${method}`;
        const fn = (instance as Record<string, (ctx: JobContext<unknown>) => unknown>)[method]!;
        this.add(source, options.name ?? source, 'method', async (ctx) => fn.call(instance, ctx), options, queues, moduleRef);
      }
    }
  }

  private isStatic(wrapper: InstanceWrapper): boolean {
    return wrapper.isDependencyTreeStatic() && !wrapper.isTransient;
  }

  private addWorker(instance: Partial<JobWorker>, className: string, options: WorkerOptions, queues: ReadonlySet<string> | null, moduleRef?: ModuleRef): void {
    if (typeof instance.perform !== 'function') {
      throw new SchedulerConfigError(className, 'perform', 'a @Worker class must implement perform(ctx)');
    }
    const perform = instance.perform.bind(instance);
    const backoff = typeof instance.backoff === 'function' ? instance.backoff.bind(instance) : undefined;
    this.add(className, options.name ?? className, 'worker', async (ctx) => perform(ctx), options, queues, moduleRef, backoff);
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
    const resolved = resolveJobOptions(options, fail, queues, workerBackoff);
    const input = { cron: options.cron, zone: options.zone, every: options.every, at: options.at };
    const reboot = isReboot(input);
    if (reboot && input.zone !== undefined) fail('zone', 'does not apply to @reboot');
    const spec = reboot ? null : compileSchedule(input, source);
    assertScheduleOptions(options, reboot ? 'reboot' : spec ? 'ticks' : 'none', fail);
    const definition: JobDefinition = { name, source, kind, run, options: resolved, misfireInput: options.misfire, moduleRef };
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
      input: displayInput(input),
    };
    if (spec.kind === 'at' && spec.next(this.options.clock.now()) === null) {
      this.logger.warn(`${source}: "at" ${String(input.at)} is in the past; it will not run`);
    }
    this.registry.addSchedule(entry);
  }
}

/** The schedule as JSON (for `all()`, `getJob()` and storage). */
export function displayInput(input: { cron?: string | readonly string[]; zone?: string; every?: unknown; at?: Date | string }): ScheduleEntry['input'] {
  const out: ScheduleEntry['input'] = {};
  if (input.cron !== undefined) out.cron = typeof input.cron === 'string' ? input.cron : [...input.cron];
  if (input.zone !== undefined) out.zone = input.zone;
  if (input.every !== undefined) out.every = typeof input.every === 'number' || typeof input.every === 'string' ? input.every : JSON.stringify(input.every);
  if (input.at !== undefined) out.at = input.at instanceof Date ? input.at.toISOString() : input.at;
  return out;
}
