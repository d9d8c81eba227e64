import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import type { LoopTask } from '../../planner/scheduler.loop.js';
import type { QueueCounts, QueueState } from '../../store/job.types.js';
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
  store: { queueCounts(now: Date): Promise<QueueCounts[]>; getQueueStates(): Promise<QueueState[]> };
  isLeader(): boolean;
  /** The queues this node runs, with their concurrency here and the jobs it runs of each now. */
  localQueues(): { queue: string; limit: number; executing: number }[];
  /** The queues named in this node's configuration (zero-filled even with no job). */
  knownQueues(): readonly string[];
  /** ms between two reads of the store's counts. */
  interval: number;
}

/**
 * The observable instruments: per-node (`scheduler.jobs.executing`,
 * `scheduler.queue.limit`, `scheduler.leader`) and cluster-wide
 * (`scheduler.queue.jobs`, `scheduler.queue.paused`). The cluster-wide ones
 * come from one cached read of the store's counts every `interval`, made and
 * reported by the leader only, so N nodes do not report N copies nor run N
 * count queries; every known queue × state is reported, zeros included.
 * @internal
 */
export class QueueGauges {
  private counts: QueueCounts[] | null = null;
  private paused = new Map<string, boolean>();
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
          this.counts = null;
          return null;
        }
        return (this.next ??= now);
      },
      run: async (now) => {
        this.next = now + this.ports.interval;
        const [counts, states] = await Promise.all([this.ports.store.queueCounts(new Date(now)), this.ports.store.getQueueStates()]);
        this.counts = counts;
        this.paused = new Map(states.map((s) => [s.name, s.paused]));
      },
    };
  }

  private observe(result: BatchObservableResult): void {
    const [jobs, paused, limit, executing, leader] = this.observables as [Observable, Observable, Observable, Observable, Observable];
    const isLeader = this.ports.isLeader();
    result.observe(leader, isLeader ? 1 : 0);
    for (const q of this.ports.localQueues()) {
      result.observe(limit, q.limit, { [ATTR.queue]: q.queue });
      result.observe(executing, q.executing, { [ATTR.queue]: q.queue });
    }
    if (!isLeader || this.counts === null) return;
    const byQueue = new Map(this.counts.map((c) => [c.queue, c]));
    const names = new Set([...this.ports.knownQueues(), ...byQueue.keys(), ...this.paused.keys()]);
    for (const queue of names) {
      const c = byQueue.get(queue);
      for (const [state, field] of STATES) result.observe(jobs, c?.[field] ?? 0, { [ATTR.queue]: queue, [ATTR.state]: state });
      result.observe(paused, this.paused.get(queue) ? 1 : 0, { [ATTR.queue]: queue });
    }
  }
}
