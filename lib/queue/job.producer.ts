import type { Clock } from '../clock/clock.js';
import type { Notifier } from '../notifier/notifier.js';
import type { InsertOptions, JobStore } from '../store/job-store.js';
import type { InsertResult, Job, NewJob } from '../store/job.types.js';
import type { QueueManager } from './queue.manager.js';
import type { QueueRunner } from './queue.runner.js';
import type { JobSource, SchedulerEvents } from '../telemetry/scheduler.events.js';
import { cloneJson } from '../store/new-job.js';
import { timeStore, type StoreTimer } from '../telemetry/metrics/store-timer.js';

/**
 * The one way jobs enter the store: insert, then wake the queues that have
 * due work (notifier) and remember when future work becomes due (wake-ups);
 * `job:enqueue` for each job inserted.
 * @internal
 */
export class JobProducer {
  constructor(
    private readonly store: JobStore,
    private readonly notifier: Notifier,
    private readonly queues: QueueManager,
    private readonly clock: Clock,
    private readonly node: string,
    private readonly events: Pick<SchedulerEvents, 'emit' | 'has'>,
    private readonly storeTimer: StoreTimer | null = null,
  ) {}

  async insert(jobs: readonly NewJob[], source: JobSource, transaction?: object): Promise<InsertResult[]> {
    if (jobs.length === 0) return [];
    const runner = transaction === undefined ? this.idleRunnerFor(jobs) : undefined;
    const now = new Date(this.clock.now());
    // Not idle here: another node that is may take them (a store with push decides).
    const options: InsertOptions =
      transaction !== undefined
        ? { transaction, now }
        : runner
          ? { claimFor: { node: this.node, now }, now }
          : this.store.push
            ? { push: { from: this.node, now }, now }
            : { now };
    const results = await timeStore(this.storeTimer, 'enqueue', () => this.store.insert(jobs, options));
    // Before the runner adopts its claimed jobs: their `job:start` follows their `job:enqueue`.
    if (this.events.has('job:enqueue')) for (const { job, inserted } of results) if (inserted) this.events.emit('job:enqueue', { job, source });
    const due = new Set<string>();
    const claimed: Job[] = [];
    for (const { job, inserted } of results) {
      if (!inserted) continue;
      if (job.state === 'running') {
        if (runner) claimed.push(job);
      } else if (job.runAt.getTime() <= now.getTime()) due.add(job.queue);
      else this.queues.wakeAt(job.queue, job.runAt.getTime());
    }
    // The caller keeps the inserted jobs; the runner gets copies sharing no
    // arguments with them (as a claim's jobs share nothing with the caller's).
    if (runner && claimed.length > 0)
      runner.adopt(
        claimed.map((job) => ({ ...job, args: cloneJson(job.args), meta: cloneJson(job.meta), tags: [...job.tags] })),
        now.getTime(),
      );
    if (!this.store.notifiesInserts) for (const queue of due) await this.notifier.notify({ type: 'insert', queue });
    return results;
  }

  /**
   * This node's runner of the jobs' one queue, when it is idle enough to run
   * them at once: then they are inserted already claimed by this node (the
   * enqueue → notification → claim round trips are saved). Jobs for several
   * queues, or more than the runner's free slots, go the usual way.
   */
  private idleRunnerFor(jobs: readonly NewJob[]): QueueRunner | undefined {
    const queue = jobs[0]!.queue;
    for (const job of jobs) if (job.queue !== queue) return undefined;
    const runner = this.queues.get(queue);
    return runner?.canTakeAtInsert(jobs.length) ? runner : undefined;
  }
}
