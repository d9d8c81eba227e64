import type { Type } from '@nestjs/common';
import type { ServicePorts } from '../composition/scheduler.ports.js';
import type { JsonValue } from '../common/json.js';
import { scheduleJobBase } from '../planner/planner.js';
import { tickSkipReason, tickUnique } from '../planner/tick-unique.js';
import { buildJobs, jsonArgs } from '../queue/job.builder.js';
import { InvalidArgumentError, JobNotFoundError, ShuttingDownError } from '../scheduler.errors.js';
import type { EnqueuedJob, EnqueueOptions } from '../scheduler.types.js';
import type { NewJob } from '../store/job.types.js';
import { captureTraceContext } from '../telemetry/tracing.js';

/**
 * `SchedulerService.enqueue*`: validates the call, inserts its jobs, and marks (and reports) duplicates.
 * @internal
 */
export async function enqueueJobs(
  s: ServicePorts,
  target: string | Type<unknown>,
  argsList: readonly unknown[],
  options: EnqueueOptions,
): Promise<EnqueuedJob[]> {
  const jobs = buildJobs(s.jobs, target, argsList, options);
  if (s.refusesWork()) throw new ShuttingDownError('enqueue');
  const results = await s.producer.insert(jobs, 'api', options.manager);
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

/**
 * `SchedulerService.runNow` of a schedule: one run now, its overlap rule still applying.
 * @internal
 */
export async function runScheduleNow(s: ServicePorts, name: string, args: JsonValue | undefined): Promise<EnqueuedJob> {
  if (s.refusesWork()) throw new ShuttingDownError('runNow');
  const entry = s.registry.findSchedule(name)!;
  const now = new Date(s.clock.now());
  const own = args === undefined ? undefined : jsonArgs(args, 'args', false, s.store.maxPayloadBytes).value;
  const job: NewJob = {
    ...scheduleJobBase(entry),
    // A unique key made of arguments is made of these ones.
    ...(own === undefined ? {} : { args: own, ...tickUnique(entry, own) }),
    runAt: now,
    scheduledAt: now,
    trace: captureTraceContext(),
  };
  const [result] = await s.producer.insert([job], 'api');
  if (!result!.inserted) {
    const reason = tickSkipReason(entry, result!.conflict);
    s.events.emit('job:skip', { name: entry.handler.name, schedule: name, reason, job: result!.job, tick: null, duration: 0, outcome: 'skipped' });
  }
  return { ...result!.job, duplicate: !result!.inserted };
}

/**
 * `SchedulerService.cancelJob`: by id, or every running and queued job of a name; resolves to how many.
 * @internal
 */
export async function cancelJobs(s: ServicePorts, idOrName: string, reason: string): Promise<number> {
  if (typeof idOrName !== 'string' || !idOrName) throw new InvalidArgumentError('idOrName', 'must be a job id or name');
  const byId = await s.store.get(idOrName);
  const targets = byId ? [byId] : s.registry.has(idOrName) ? await s.store.list({ nameOrSchedule: idOrName, states: ['available', 'running'] }) : null;
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
