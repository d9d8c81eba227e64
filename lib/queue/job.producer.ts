import type { Clock } from '../clock/clock.js';
import type { Notifier } from '../notifier/notifier.js';
import type { JobStore } from '../store/job-store.js';
import type { InsertResult, NewJob } from '../store/job.types.js';
import type { QueueManager } from './queue.manager.js';

/**
 * The one way jobs enter the store: insert, then wake the queues that have
 * due work (notifier) and remember when future work becomes due (wake-ups).
 */
export class JobProducer {
  constructor(
    private readonly store: JobStore,
    private readonly notifier: Notifier,
    private readonly queues: QueueManager,
    private readonly clock: Clock,
  ) {}

  async insert(jobs: readonly NewJob[], transaction?: object): Promise<InsertResult[]> {
    if (jobs.length === 0) return [];
    const results = await this.store.insert(jobs, transaction === undefined ? {} : { transaction });
    const now = this.clock.now();
    const due = new Set<string>();
    for (const { job, inserted } of results) {
      if (!inserted) continue;
      if (job.runAt.getTime() <= now) due.add(job.queue);
      else this.queues.wakeAt(job.queue, job.runAt.getTime());
    }
    if (!this.store.notifiesInserts) for (const queue of due) await this.notifier.notify({ type: 'insert', queue });
    return results;
  }
}
