import { createHash } from 'node:crypto';
import type { Clock } from '../clock/clock.js';
import type { JobProducer } from '../queue/job.producer.js';
import { DiscardJobError } from '../scheduler.errors.js';
import type { SchedulerRegistry } from '../scheduler.registry.js';
import type { Job } from '../store/job.types.js';

/**
 * What enqueueing `@reboot` jobs uses.
 * @internal
 */
export interface RebootJobPorts {
  registry: Pick<SchedulerRegistry, 'reboot'>;
  producer: Pick<JobProducer, 'insert'>;
  clock: Clock;
  node: string;
  /** This node runs jobs: its `@reboot` jobs are pinned to it. */
  runsJobs: boolean;
}

/**
 * This node's `@reboot` jobs: enqueued once as it starts, retried by the periodic sync while the store is down.
 * @internal
 */
export class RebootJobs {
  private due = false;
  /** This start, in the jobs' tick keys. */
  private start = '';
  /** The insert under way: the start's and the periodic sync's calls share it, or a slow insert would be made twice. */
  private inserting: Promise<void> | null = null;

  constructor(private readonly ports: RebootJobPorts) {}

  /** True from start until this node's `@reboot` jobs are stored (the store may be down at start). */
  get pending(): boolean {
    return this.due;
  }

  /** The node started: its `@reboot` jobs are due until stored. */
  markDue(): void {
    this.due = true;
    // One tick key a job and start: an insert sent again after its answer was lost (it may have landed) inserts nothing.
    this.start = createHash('sha256').update(`${this.ports.node}\n${this.ports.clock.now()}`).digest('hex').slice(0, 16);
  }

  /** Stores this node's `@reboot` jobs unless they are stored already; one insert at a time. */
  enqueue(): Promise<void> {
    if (!this.due) return Promise.resolve();
    this.inserting ??= this.insert().finally(() => (this.inserting = null));
    return this.inserting;
  }

  /**
   * Why this node must not run `job`: a `@reboot` job pinned to this node's
   * name by an earlier start of it (a fixed `nodeName` restarted before that
   * start's job ran, or while it ran and was rescued), whose warm-up this
   * start runs with its own job. `null` for every other job.
   */
  superseded(job: Job<unknown>): DiscardJobError | null {
    const { node, runsJobs, registry } = this.ports;
    if (!runsJobs || job.pinnedNode !== node || job.meta.reboot !== true) return null;
    // Its runners claim before this start's insert: until then no job is its own (`start` is empty).
    if (job.tickKey === `${job.name}@reboot:${this.start}`) return null;
    if (!registry.reboot.some((definition) => definition.name === job.name)) return null;
    return new DiscardJobError(`a @reboot job of an earlier start of node ${node}, which ended before it ran: this start runs its own`);
  }

  private async insert(): Promise<void> {
    const { registry, clock, node, runsJobs } = this.ports;
    const now = clock.now();
    const jobs = registry.reboot.map((definition) => ({
      name: definition.name,
      queue: definition.options.queue,
      args: {},
      priority: definition.options.priority,
      maxAttempts: definition.options.maxAttempts,
      timeout: definition.options.timeout,
      runAt: new Date(now),
      pinnedNode: runsJobs ? node : null,
      tickKey: `${definition.name}@reboot:${this.start}`,
      tags: definition.options.tags,
      meta: { ...definition.options.meta, reboot: true },
    }));
    await this.ports.producer.insert(jobs, 'once');
    this.due = false;
  }
}
