import { Logger } from '@nestjs/common';
import type { Clock } from '../clock/clock.js';
import type { JobExecutor } from '../execution/job.executor.js';
import type { RunningJobs } from '../execution/running-jobs.js';
import type { JobStore } from '../store/job-store.js';

/** What a queue runner needs. */
export interface QueueRunnerDeps {
  store: JobStore;
  executor: JobExecutor;
  running: RunningJobs;
  clock: Clock;
  node: string;
}

/**
 * Runs one queue's jobs on this node with at most `concurrency` at once.
 * It claims only as many jobs as it has free slots, so a job claimed here is
 * never parked behind a busy node. Woken by the notifier, by finished jobs
 * and by the loop's poll; each wake is one claim at most in flight.
 */
export class QueueRunner {
  private readonly logger = new Logger('Scheduler');
  private active = 0;
  private claiming = false;
  private again = false;
  private stopped = true;
  private paused = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private failingSince: number | null = null;
  private lastReport = 0;

  constructor(
    readonly name: string,
    private concurrency: number,
    readonly shutdownGracePeriod: number,
    private readonly deps: QueueRunnerDeps,
  ) {}

  get limit(): number {
    return this.concurrency;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Jobs of this queue running on this node. */
  get busy(): number {
    return this.active;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.wake();
  }

  scale(concurrency: number): void {
    this.concurrency = concurrency;
    this.wake();
  }

  /** Looks for due jobs if there are free slots. */
  wake(): void {
    if (this.stopped || this.paused || this.active >= this.concurrency) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    void this.fill();
  }

  /** Stops claiming. Running jobs go on until {@link drain} or abort. */
  stopClaiming(): void {
    this.stopped = true;
  }

  /** Settles when every job started here has been acknowledged. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private async fill(): Promise<void> {
    this.claiming = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && !this.paused && this.active < this.concurrency) {
          const jobs = await this.deps.store.claim({
            queue: this.name,
            limit: this.concurrency - this.active,
            node: this.deps.node,
            now: new Date(this.deps.clock.now()),
          });
          if (jobs.length === 0) break;
          for (const job of jobs) this.launch(job);
        }
      } while (this.again && !this.stopped);
      if (this.failingSince !== null) {
        this.logger.log(`queue ${this.name}: claiming works again`);
        this.failingSince = null;
      }
    } catch (error) {
      // The store is unreachable: the next poll tries again. One line per
      // outage (and a reminder a minute), not one per poll.
      const now = Date.now();
      if (this.failingSince === null || now - this.lastReport >= 60_000) {
        this.logger.error(`queue ${this.name}: claim failed: ${(error as Error)?.message ?? String(error)}`);
        this.lastReport = now;
      }
      this.failingSince ??= now;
    } finally {
      this.claiming = false;
    }
  }

  private launch(job: Parameters<JobExecutor['execute']>[0]): void {
    this.active++;
    const done = this.deps.executor.execute(job).finally(() => {
      this.active--;
      this.inflight.delete(done);
      this.wake();
    });
    this.inflight.add(done);
  }
}
