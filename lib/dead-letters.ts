import { InvalidArgumentError, JobNotFoundError } from './scheduler.errors.js';
import type { DeadLetterPorts } from './composition/scheduler.ports.js';
import type { DeadLetterFilter, DeadLetterStats } from './scheduler.types.js';
import type { Job } from './store/job.types.js';

const DEAD = ['dead'] as const;

/**
 * Dead letters: jobs whose every attempt failed. They stay in the store
 * (state `dead`, with each attempt's error) until retried, deleted or pruned
 * (`retention.dead`, default 7 days).
 * @publicApi
 */
export class DeadLetters {
  /** @internal */
  constructor(private readonly scheduler: () => DeadLetterPorts) {}

  /** Dead jobs, newest first. @default limit 100 */
  async list(filter: DeadLetterFilter = {}): Promise<Job[]> {
    const limit = filter.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', 'must be a positive integer');
    return this.scheduler().store.list({ name: filter.name, queue: filter.queue, states: DEAD, limit });
  }

  /** One dead job; rejects with `JobNotFoundError` when there is no dead job with this id. */
  async get(id: string): Promise<Job> {
    const job = await this.scheduler().store.get(id);
    if (!job || job.state !== 'dead') throw new JobNotFoundError(id, 'dead letter');
    return job;
  }

  /** Counts by queue and by name. */
  async stats(): Promise<DeadLetterStats> {
    const jobs = await this.scheduler().store.list({ states: DEAD });
    const stats: DeadLetterStats = { total: jobs.length, byQueue: {}, byName: {} };
    for (const job of jobs) {
      stats.byQueue[job.queue] = (stats.byQueue[job.queue] ?? 0) + 1;
      stats.byName[job.name] = (stats.byName[job.name] ?? 0) + 1;
    }
    return stats;
  }

  /** Puts a dead job back in its queue with a fresh set of attempts. */
  async retry(id: string): Promise<Job> {
    const s = this.scheduler();
    await this.get(id);
    const job = await s.store.resurrect(id, new Date(s.clock.now()));
    if (!job) throw new JobNotFoundError(id, 'dead letter');
    s.wake(job.queue);
    return job;
  }

  /** Retries every dead job matching the filter; resolves to how many. */
  async retryAll(filter: DeadLetterFilter = {}): Promise<number> {
    let count = 0;
    for (const job of await this.list({ limit: 10_000, ...filter })) {
      await this.retry(job.id);
      count++;
    }
    return count;
  }

  /** Deletes one dead job. */
  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.scheduler().store.delete([id]);
  }

  /** Deletes dead jobs that died before `before`; resolves to how many. */
  async prune(options: { before: Date }): Promise<number> {
    if (!(options?.before instanceof Date) || Number.isNaN(options.before.getTime())) {
      throw new InvalidArgumentError('before', 'must be a valid Date');
    }
    return this.scheduler().store.prune(DEAD, options.before, Number.MAX_SAFE_INTEGER);
  }
}
