import type { Clock } from './clock/clock.js';
import type { Planner } from './planner/planner.js';
import type { JobDefinition, ResolvedJobOptions, ScheduleEntry, SchedulerRegistry } from './scheduler.registry.js';
import type { JobInfo } from './scheduler.types.js';

/**
 * What describing jobs reads: the registry, and the planner's next tick of each schedule.
 * @internal
 */
export interface DescribePorts {
  registry: SchedulerRegistry;
  planner: Pick<Planner, 'nextTick'>;
  clock: Clock;
}

function base(definition: JobDefinition, options: ResolvedJobOptions) {
  return {
    handler: definition.name,
    source: definition.source,
    queue: options.queue,
    priority: options.priority,
    maxRetries: options.maxAttempts - 1,
    timeout: options.timeout,
    overlap: options.overlap,
    tags: [...options.tags],
  };
}

function fromSchedule(scheduler: DescribePorts, entry: ScheduleEntry, paused: boolean): JobInfo {
  return {
    name: entry.name,
    ...base(entry.handler, entry.options),
    origin: entry.origin,
    kind: entry.spec.kind === 'reboot' ? 'reboot' : entry.spec.kind,
    ...entry.input,
    description: entry.spec.description,
    paused,
    nextRunAt: toDate(scheduler.planner.nextTick(entry, scheduler.clock.now()) ?? entry.spec.next(scheduler.clock.now())),
  };
}

function fromHandler(definition: JobDefinition, reboot: boolean, paused: boolean): JobInfo {
  return {
    name: definition.name,
    ...base(definition, definition.options),
    origin: 'handler',
    kind: reboot ? 'reboot' : 'queued',
    ...(reboot ? { cron: '@reboot' } : {}),
    description: reboot ? '@reboot' : 'runs what is enqueued',
    paused,
    nextRunAt: null,
  };
}

/**
 * Builds the `JobInfo` views of `SchedulerService.all()` / `getJob()`.
 * @internal
 */
export const describeJob = {
  all(scheduler: DescribePorts, paused: ReadonlySet<string>): JobInfo[] {
    const { registry } = scheduler;
    const out: JobInfo[] = [];
    const reboot = new Set(registry.reboot.map((d) => d.name));
    for (const definition of registry.allDefinitions()) {
      if (definition.internal) continue;
      const own = registry.findSchedule(definition.name);
      out.push(own ? fromSchedule(scheduler, own, paused.has(own.name)) : fromHandler(definition, reboot.has(definition.name), paused.has(definition.name)));
    }
    for (const entry of registry.allSchedules()) {
      if (entry.origin === 'runtime' || entry.handler.internal) out.push(fromSchedule(scheduler, entry, paused.has(entry.name)));
    }
    return out;
  },

  one(scheduler: DescribePorts, name: string, paused: boolean): JobInfo | undefined {
    const { registry } = scheduler;
    const entry = registry.findSchedule(name);
    if (entry) return fromSchedule(scheduler, entry, paused);
    const definition = registry.findDefinition(name);
    return definition && fromHandler(definition, registry.reboot.includes(definition), paused);
  },
};

function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}
