import type { HealthState } from '../health/health.types.js';
import type { QueueStats } from '../scheduler.types.js';
import type { QueueCounts } from '../store/job.types.js';

/** Jobs of a queue by state: the store's counts (`available` is due now, `scheduled` due later, retries waiting included). @publicApi */
export type DashboardCounts = Omit<QueueCounts, 'queue'>;

/** One queue. @publicApi */
export interface DashboardQueue {
  queue: string;
  paused: boolean;
  /** This node's concurrency, `null` when it does not run the queue. */
  concurrency: number | null;
  /** The cluster-wide concurrency kept in the store (`PUT …/concurrency`, `scaleQueue`), `null` when none was set. */
  storedConcurrency: number | null;
  counts: DashboardCounts;
}

/** `GET api/overview`: the shared snapshot. @publicApi */
export interface DashboardOverview {
  /** When the snapshot was read (one per `statsCacheMs` per node). */
  generatedAt: string;
  node: string;
  /** The leader's node name, `null` when none. */
  leader: string | null;
  health: HealthState;
  queues: DashboardQueue[];
  totals: DashboardCounts;
}

/** @internal */
export function countsOf(stats: QueueStats): DashboardCounts {
  const { available, scheduled, running, completed, dead, discarded, cancelled } = stats;
  return { available, scheduled, running, completed, dead, discarded, cancelled };
}

/** @internal */
export function queueView(stats: QueueStats): DashboardQueue {
  return { queue: stats.queue, paused: stats.paused, concurrency: stats.concurrency, storedConcurrency: stats.storedConcurrency, counts: countsOf(stats) };
}
