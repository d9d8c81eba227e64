import type { Clock } from '../clock/clock.js';
import type { JobStore } from '../store/job-store.js';
import type { QueueCounts } from '../store/job.types.js';
import type { NodeRegistry } from '../store/node-registry.js';
import type { QueueLag } from './health.types.js';
import { TtlCache, withinMs } from './ttl.cache.js';

/**
 * One queue as last read: its lag (as the health report shows it) and its
 * counts by state (zeros for a queue with no job).
 * @internal
 */
export interface QueueReading {
  lag: QueueLag;
  counts: QueueCounts;
}

/** What the reader needs. @internal */
export interface QueueStatsPorts {
  store: Pick<JobStore, 'queueCounts' | 'getQueueStates' | 'nextRunAt'>;
  /** The live nodes and the queues each runs. @default none: runners are not counted */
  nodes?: Pick<NodeRegistry, 'list'>;
  clock: Clock;
  /** Queues listed even with no job: the ones this node runs or is configured with. */
  knownQueues(): readonly string[];
}

/** A store read unanswered this long is given up, so that a hung store makes a check down rather than a probe hang. @internal */
export const READ_TIMEOUT_MS = 5_000;

/**
 * The per-queue counts, paused flags and lags that the health checks and the
 * metrics' queue gauges both report, read once for both: one count per queue
 * and state, the queue states, then the oldest due job of each queue that
 * has some. Each caller says how old a reading it accepts.
 * @internal
 */
export class QueueStatsReader {
  private readonly cache: TtlCache;

  constructor(private readonly ports: QueueStatsPorts) {
    this.cache = new TtlCache(ports.clock);
  }

  /** The queues, sorted by name, read at most `maxAgeMs` ago. */
  read(maxAgeMs: number): Promise<QueueReading[]> {
    return this.cache.get('queues', maxAgeMs, () => withinMs(this.load(), READ_TIMEOUT_MS, this.ports.clock, 'the store'));
  }

  /** The last reading, without a read (`undefined` when none has finished). */
  last(): Promise<QueueReading[] | undefined> {
    return this.cache.peek<QueueReading[]>('queues');
  }

  private async load(): Promise<QueueReading[]> {
    const { store, clock } = this.ports;
    const now = clock.now();
    const [counts, states] = await Promise.all([store.queueCounts(new Date(now)), store.getQueueStates()]);
    const paused = new Set(states.filter((s) => s.paused).map((s) => s.name));
    const byQueue = new Map<string, QueueCounts>();
    for (const queue of [...this.ports.knownQueues(), ...states.map((s) => s.name)]) byQueue.set(queue, zero(queue));
    for (const row of counts) byQueue.set(row.queue, row);
    const runners = await this.runners(now);
    const readings = await Promise.all(
      [...byQueue.values()].map(async (c): Promise<QueueReading> => {
        const oldest = c.available > 0 ? await store.nextRunAt(c.queue) : null;
        const lagMs = oldest ? Math.max(0, now - oldest.getTime()) : 0;
        const lag: QueueLag = { queue: c.queue, lagMs, available: c.available, paused: paused.has(c.queue) };
        if (runners !== null) lag.runners = runners.get(c.queue) ?? 0;
        return { lag, counts: c };
      }),
    );
    return readings.sort((a, b) => a.lag.queue.localeCompare(b.lag.queue));
  }

  /** Live nodes a queue, or `null` without a registry (or when it cannot be read: the counts still stand). */
  private async runners(now: number): Promise<Map<string, number> | null> {
    if (!this.ports.nodes) return null;
    const nodes = await this.ports.nodes.list(new Date(now)).catch(() => null);
    if (nodes === null) return null;
    const runners = new Map<string, number>();
    for (const node of nodes)
      for (const [queue, concurrency] of Object.entries(node.queues)) if (concurrency > 0) runners.set(queue, (runners.get(queue) ?? 0) + 1);
    return runners;
  }
}

function zero(queue: string): QueueCounts {
  return { queue, available: 0, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 };
}
