import type { ServicePorts } from '../composition/scheduler.ports.js';
import { JobNotFoundError, JobStateError } from '../scheduler.errors.js';
import type { Job, JobState } from '../store/job.types.js';
import { findJob } from './job-query.calls.js';

/**
 * `SchedulerService.runJobNow`: a waiting job made due now, every node's runner of its queue woken.
 * @internal
 */
export async function runJobNow(s: ServicePorts, id: string): Promise<Job> {
  const found = await findJob(s, id);
  if (!found) throw new JobNotFoundError(id);
  if (found.state !== 'available') throw new JobStateError(id, found.state, 'only a waiting job can be made due now');
  const job = await s.store.makeDue(id, new Date(s.clock.now()));
  // Claimed (or cancelled) since it was read.
  if (!job) throw new JobStateError(id, (await s.store.get(id))?.state ?? 'gone', 'only a waiting job can be made due now');
  // As an insert would: runners asleep until the old run time (or their claim cursor past it) look again.
  await s.notifier.notify({ type: 'insert', queue: job.queue });
  return job;
}

/**
 * `SchedulerService.deleteJob`: a job that does not run, removed from the store.
 * @internal
 */
export async function deleteJob(s: ServicePorts, id: string): Promise<void> {
  const job = await findJob(s, id);
  if (!job) throw new JobNotFoundError(id);
  if (job.state === 'running') throw new JobStateError(id, 'running', RUNNING);
  // The state is checked again in the store's delete: a job claimed since it was read stays.
  if ((await s.store.delete([id], { states: NOT_RUNNING })) > 0) return;
  const now = await s.store.get(id);
  if (now?.state === 'running') throw new JobStateError(id, 'running', RUNNING);
}

const RUNNING = 'cancel it first (a running job is never deleted)';
const NOT_RUNNING: readonly JobState[] = ['available', 'completed', 'dead', 'discarded', 'cancelled'];
