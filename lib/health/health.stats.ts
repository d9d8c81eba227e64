import type { JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';

/** The store reads the health checks make. @internal */
export type HealthStore = Pick<JobStore, 'ping' | 'list' | 'listDead'>;

/** At most this many running jobs are read to find stuck ones (more than the concurrency of most clusters). @internal */
export const STUCK_SCAN = 1_000;

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
