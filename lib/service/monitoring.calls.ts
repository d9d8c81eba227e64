import type { ServicePorts } from '../composition/scheduler.ports.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import type { HealthStatus, JobInfo, JobStatus } from '../scheduler.types.js';
import { FINAL_STATES, type Job } from '../store/job.types.js';
import { known } from './schedule.calls.js';

/**
 * `SchedulerService.history`: finished runs of a job or schedule, newest first.
 * @internal
 */
export async function jobHistory(s: ServicePorts, name: string, limit: number): Promise<Job[]> {
  known(s, name);
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', 'must be a positive integer');
  return s.store.list({ nameOrSchedule: name, states: FINAL_STATES, limit });
}

/**
 * `SchedulerService.status`: running and queued counts, last run, next tick of a job described as `info`.
 * @internal
 */
export async function jobStatus(s: ServicePorts, info: JobInfo): Promise<JobStatus> {
  const { store } = s;
  const name = info.name;
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

/**
 * `SchedulerService.healthCheck`: this node's view, with a ping of the store.
 * @internal
 */
export async function healthCheck(s: ServicePorts): Promise<HealthStatus> {
  let store: HealthStatus['store'] = { status: 'up' };
  try {
    await s.store.ping();
  } catch (error) {
    store = { status: 'down', error: (error as Error)?.message ?? String(error) };
  }
  const queues = s.queues.all().map((r) => ({ queue: r.name, paused: r.isPaused, concurrency: r.limit, running: r.busy }));
  return { status: store.status, node: s.node, leader: s.peer.isLeader(), enabled: s.enabled, store, queues };
}
