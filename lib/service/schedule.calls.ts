import type { ServicePorts } from '../composition/scheduler.ports.js';
import type { OptionFailure } from '../discovery/job-options.resolver.js';
import { buildRuntimeSchedule, toStoredDefinition, type RuntimeScheduleInput } from '../schedule/runtime-schedule.js';
import { resolveAtRegistration, scheduleJsonOf } from '../schedule/builder/builder-schedule.js';
import { describeJob } from '../scheduler.describe.js';
import { DuplicateJobError, InvalidArgumentError, JobNotFoundError } from '../scheduler.errors.js';
import type { ScheduleEntry } from '../scheduler.registry.js';
import type { JobInfo } from '../scheduler.types.js';

const invalid: OptionFailure = (option, detail) => {
  throw new InvalidArgumentError(option, detail);
};

/** A schedule may name only a breaker this node knows (configured, or registered here or elsewhere). */
function knownBreaker(s: ServicePorts, entry: ScheduleEntry): void {
  const breaker = entry.options.circuitBreaker;
  if (breaker !== null && !s.breakers.has(breaker)) {
    invalid('circuitBreaker', `unknown circuit breaker ${JSON.stringify(breaker)}; register it first (scheduler.circuitBreakers.register)`);
  }
}

/**
 * `SchedulerService.insert`: validates, stores, applies here and announces a runtime schedule.
 * @internal
 */
export async function insertSchedule(s: ServicePorts, given: RuntimeScheduleInput): Promise<JobInfo> {
  const input = registered(given, s.clock.now());
  const entry = buildRuntimeSchedule(input, s.registry, s.jobs.queueNames, invalid, s.store.maxPayloadBytes);
  if (s.registry.has(entry.name)) throw new DuplicateJobError(entry.name);
  knownBreaker(s, entry);
  if (entry.spec.kind === 'at' && entry.spec.next(s.clock.now()) === null) throw new InvalidArgumentError('at', 'is in the past');
  const definition = toStoredDefinition(input);
  await s.store.saveSchedule({ name: entry.name, definition });
  await s.schedules.saved(entry, definition);
  return describeJob.one(s, entry.name, false)!;
}

/** A builder schedule as stored: its spec, with "from registration" fixed to `now` so every node reads the same ticks. */
function registered(input: RuntimeScheduleInput, now: number): RuntimeScheduleInput {
  if (!input || typeof input !== 'object' || input.schedule === undefined) return input;
  return { ...input, schedule: resolveAtRegistration(scheduleJsonOf(input.schedule, invalid), now) };
}

/**
 * `SchedulerService.update`: merges a patch into a runtime schedule; a new rule starts from now.
 * @internal
 */
export async function updateSchedule(s: ServicePorts, name: string, patch: Partial<Omit<RuntimeScheduleInput, 'name'>>): Promise<void> {
  const current = runtimeSchedule(s, name);
  const stored = (await s.store.listSchedules()).find((x) => x.name === name);
  const previous = (stored?.definition ?? {}) as unknown as RuntimeScheduleInput;
  if (!patch || typeof patch !== 'object') throw new InvalidArgumentError('patch', 'must be an object');
  if ('name' in patch) throw new InvalidArgumentError('name', 'cannot be changed; delete and insert instead');
  const when = ['cron', 'every', 'at', 'schedule'].some((k) => k in patch);
  const cleared = when ? { cron: undefined, every: undefined, at: undefined, zone: undefined, schedule: undefined } : {};
  const merged: RuntimeScheduleInput = registered({ ...previous, ...cleared, ...patch, name }, s.clock.now());
  for (const key of Object.keys(merged) as (keyof RuntimeScheduleInput)[]) if (merged[key] === undefined) delete merged[key];
  const entry = buildRuntimeSchedule(merged, s.registry, s.jobs.queueNames, invalid, s.store.maxPayloadBytes);
  knownBreaker(s, entry);
  const definition = toStoredDefinition(merged);
  await s.store.saveSchedule({ name, definition });
  // A new rule starts from now; other changes keep the planning progress.
  if (current.spec.description !== entry.spec.description) s.planner.remove(name);
  await s.schedules.saved(entry, definition);
}

/**
 * `SchedulerService.delete`: jobs the schedule already queued stay.
 * @internal
 */
export async function deleteSchedule(s: ServicePorts, name: string): Promise<void> {
  runtimeSchedule(s, name);
  await s.store.deleteSchedule(name);
  await s.schedules.deleted(name);
}

/**
 * `SchedulerService.all`: every registered job and schedule, with its pause flag.
 * @internal
 */
export async function describeAll(s: ServicePorts): Promise<JobInfo[]> {
  const paused = new Set((await s.store.getScheduleStates()).filter((x) => x.paused).map((x) => x.name));
  return describeJob.all(s, paused);
}

/**
 * `SchedulerService.getJob`: one job or schedule by name. @throws JobNotFoundError
 * @internal
 */
export async function describeOne(s: ServicePorts, name: string): Promise<JobInfo> {
  known(s, name);
  const paused = (await s.store.getScheduleStates()).some((x) => x.name === name && x.paused);
  return describeJob.one(s, name, paused)!;
}

/**
 * Pauses or resumes a job or schedule on every node.
 * @internal
 */
export async function setSchedulePaused(s: ServicePorts, name: string, paused: boolean): Promise<void> {
  known(s, name);
  await s.store.setScheduleState(name, { paused });
  s.planner.setPaused(name, paused);
  // A sync begun before the write may be answered after this and undo it here: the one this waits for begins after.
  await s.schedules.requestSync().catch(() => undefined); // else the next sync reads them
  await s.broadcast({ type: 'schedules' });
}

/**
 * @throws JobNotFoundError unless `name` is a registered job or schedule.
 * @internal
 */
export function known(s: ServicePorts, name: string): void {
  if (typeof name !== 'string' || !s.registry.has(name)) throw new JobNotFoundError(String(name));
}

function runtimeSchedule(s: ServicePorts, name: string): ScheduleEntry {
  const entry = s.registry.findSchedule(name);
  if (!entry) throw new JobNotFoundError(String(name), 'schedule');
  if (entry.origin !== 'runtime')
    throw new InvalidArgumentError('name', `"${name}" is defined in code; only schedules inserted at runtime can be changed or deleted`);
  return entry;
}
