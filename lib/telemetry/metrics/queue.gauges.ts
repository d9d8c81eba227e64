import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import type { QueueReading, QueueStatsReader } from '../../health/queue-stats.reader.js';
import type { LoopTask } from '../../planner/scheduler.loop.js';
import type { QueueCounts } from '../../store/job.types.js';
import { ATTR } from './metric-attributes.js';

/** The states `scheduler.queue.jobs` reports, each from a count of the store's. */
const STATES = [
  ['available', 'available'],
  ['scheduled', 'scheduled'],
  ['executing', 'running'],
  ['dead', 'dead'],
] as const satisfies readonly (readonly [string, keyof QueueCounts])[];

/**
 * What the queue gauges read.
 * @internal
 */
export interface QueueGaugePorts {
  /** The queues' counts and lags, shared with the health checks (every known queue listed, zeros included). */
  queueStats: Pick<QueueStatsReader, 'read'>;
  isLeader(): boolean;
  /** The queues this node runs, with their concurrency here and the jobs it runs of each now. */
  localQueues(): { queue: string; limit: number; executing: number }[];
  /** ms between two reads of the store's counts. */
  interval: number;
}

/**
 * The observable instruments: per-node (`scheduler.jobs.executing`,
 * `scheduler.queue.limit`, `scheduler.leader`) and cluster-wide
 * (`scheduler.queue.jobs`, `scheduler.queue.lag`, `scheduler.queue.paused`).
 * The cluster-wide ones come from one cached read of the store every
 * `interval` (the reading the health checks share), made and reported by the
 * leader only, so N nodes do not report N copies nor run N count queries;
 * every known queue × state is reported, zeros included.
 * @internal
 */
export class QueueGauges {
  private readings: QueueReading[] | null = null;
  private next: number | null = null;
  private readonly observables: Observable[];
  private readonly callback = (result: BatchObservableResult) => this.observe(result);

  constructor(
    private readonly meter: Meter,
    private readonly ports: QueueGaugePorts,
  ) {
    this.observables = [
      meter.createObservableGauge('scheduler.queue.jobs', { unit: '{job}', description: "Jobs per queue and state (the leader's cached count)." }),
      meter.createObservableGauge('scheduler.queue.paused', { unit: '1', description: '1 while the queue is paused.' }),
      meter.createObservableGauge('scheduler.queue.lag', { unit: 's', description: "Age of the queue's oldest due, unclaimed job (0 when none waits)." }),
      meter.createObservableGauge('scheduler.queue.limit', { unit: '{job}', description: "The queue's concurrency on this node." }),
      meter.createObservableUpDownCounter('scheduler.jobs.executing', { unit: '{job}', description: 'Jobs running on this node now.' }),
      meter.createObservableGauge('scheduler.leader', { unit: '1', description: '1 while this node is the leader.' }),
    ];
  }

  start(): void {
    this.meter.addBatchObservableCallback(this.callback, this.observables);
  }

  stop(): void {
    this.meter.removeBatchObservableCallback(this.callback, this.observables);
  }

  /** The loop task that refreshes the cached counts (leader only; at once on becoming leader). */
  task(): LoopTask {
    return {
      name: 'metrics:queue-stats',
      nextAt: (now) => {
        if (!this.ports.isLeader()) {
          this.next = null;
          this.readings = null;
          return null;
        }
        return (this.next ??= now);
      },
      run: async (now) => {
        this.next = now + this.ports.interval;
        this.readings = await this.ports.queueStats.read(this.ports.interval);
      },
    };
  }

  private observe(result: BatchObservableResult): void {
    const [jobs, paused, lag, limit, executing, leader] = this.observables as [Observable, Observable, Observable, Observable, Observable, Observable];
    const isLeader = this.ports.isLeader();
    result.observe(leader, isLeader ? 1 : 0);
    for (const q of this.ports.localQueues()) {
      result.observe(limit, q.limit, { [ATTR.queue]: q.queue });
      result.observe(executing, q.executing, { [ATTR.queue]: q.queue });
    }
    if (!isLeader || this.readings === null) return;
    for (const { lag: q, counts } of this.readings) {
      for (const [state, field] of STATES) result.observe(jobs, counts[field], { [ATTR.queue]: q.queue, [ATTR.state]: state });
      result.observe(paused, q.paused ? 1 : 0, { [ATTR.queue]: q.queue });
      result.observe(lag, q.lagMs / 1000, { [ATTR.queue]: q.queue });
    }
  }
}
