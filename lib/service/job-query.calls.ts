import type { ServicePorts } from '../composition/scheduler.ports.js';
import { InvalidArgumentError, JobNotFoundError } from '../scheduler.errors.js';
import type { JobListFilter } from '../scheduler.types.js';
import type { Job, JobState } from '../store/job.types.js';
import { checkJobId } from '../store/job-input.validation.js';

const STATES: readonly JobState[] = ['available', 'running', 'completed', 'dead', 'discarded', 'cancelled'];

/**
 * `SchedulerService.findJob`: one job by id, or `null`.
 * @internal
 */
export async function findJob(s: ServicePorts, id: string): Promise<Job | null> {
  return s.store.get(checkJobId(id));
}

/**
 * `SchedulerService.listJobs`: jobs matching a filter, one keyset page at a time.
 * @internal
 */
export async function listJobs(s: ServicePorts, filter: JobListFilter): Promise<Job[]> {
  const { states, queue, name, afterId, order } = filter ?? {};
  const limit = filter?.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new InvalidArgumentError('limit', `must be an integer from 1 to 10000, got ${String(limit)}`);
  if (states !== undefined && (!Array.isArray(states) || states.some((state) => !STATES.includes(state)))) {
    throw new InvalidArgumentError('states', `must be a list of ${STATES.join(', ')}`);
  }
  if (afterId !== undefined) checkJobId(afterId, 'afterId');
  if (order !== undefined && order !== 'asc' && order !== 'desc') throw new InvalidArgumentError('order', "must be 'asc' or 'desc'");
  return s.store.list({
    limit,
    ...(states === undefined ? {} : { states }),
    ...(queue === undefined ? {} : { queue }),
    ...(name === undefined ? {} : { nameOrSchedule: name }),
    ...(afterId === undefined ? {} : { afterId }),
    ...(order === undefined ? {} : { order }),
  });
}

/**
 * `SchedulerService.nextRuns`: the next `count` ticks of a schedule after `from`.
 * @internal
 */
export function nextRuns(s: ServicePorts, name: string, count: number, from: Date | undefined): Date[] {
  const entry = typeof name === 'string' ? s.registry.findSchedule(name) : undefined;
  if (!entry) throw new JobNotFoundError(String(name), 'schedule');
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new InvalidArgumentError('count', `must be an integer from 1 to 1000, got ${String(count)}`);
  const start = from ?? new Date(s.clock.now());
  if (!(start instanceof Date) || Number.isNaN(start.getTime())) throw new InvalidArgumentError('from', 'must be a valid Date');
  const runs: Date[] = [];
  let after = start.getTime();
  // The first as the planner sees it (past what it has already planned), then the rule's.
  const planned = s.planner.nextTick(entry, after);
  for (let next = planned ?? entry.spec.next(after); next !== null && runs.length < count; next = entry.spec.next(after)) {
    runs.push(new Date(next));
    after = next;
  }
  return runs;
}
