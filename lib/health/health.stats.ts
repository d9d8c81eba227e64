import type { JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { QueueLag } from './health.types.js';

/** The store reads the health checks make. @internal */
export type HealthStore = Pick<JobStore, 'ping' | 'queueCounts' | 'nextRunAt' | 'list' | 'listDead' | 'getQueueStates'>;

/** At most this many running jobs are read to find stuck ones (more than the concurrency of most clusters). @internal */
export const STUCK_SCAN = 1_000;

/**
 * Each queue's lag: one count per queue and state, then the oldest due job
 * of each queue that has some. Queues this node runs are listed even when
 * empty.
 * @internal
 */
export async function readQueueLags(store: HealthStore, now: number, localQueues: readonly string[]): Promise<QueueLag[]> {
  const [counts, states] = await Promise.all([store.queueCounts(new Date(now)), store.getQueueStates()]);
  const paused = new Set(states.filter((s) => s.paused).map((s) => s.name));
  const available = new Map<string, number>(localQueues.map((queue) => [queue, 0]));
  for (const row of counts) available.set(row.queue, row.available);
  const lags = await Promise.all(
    [...available].map(async ([queue, due]): Promise<QueueLag> => {
      const oldest = due > 0 ? await store.nextRunAt(queue) : null;
      return { queue, lagMs: oldest ? Math.max(0, now - oldest.getTime()) : 0, available: due, paused: paused.has(queue) };
    }),
  );
  return lags.sort((a, b) => a.queue.localeCompare(b.queue));
}

/**
 * Running jobs whose lease expired: no heartbeat (nor start) for
 * `rescueAfter`, so the lifeline will hand them back; among the first
 * {@link STUCK_SCAN} running jobs.
 * @internal
 */
export async function readStuck(store: HealthStore, now: number, rescueAfter: number): Promise<Job[]> {
  const running = await store.list({ states: ['running'], order: 'asc', limit: STUCK_SCAN });
  return running.filter((job) => {
    const alive = job.heartbeatAt ?? job.startedAt;
    return alive !== null && alive.getTime() < now - rescueAfter;
  });
}

/**
 * The death times (epoch ms) of the newest `limit` dead letters.
 * @internal
 */
export async function readRecentDeaths(store: HealthStore, limit: number): Promise<number[]> {
  const dead = await store.listDead({}, limit, 0);
  return dead.map((job) => (job.finishedAt ?? job.insertedAt).getTime());
}
