import { PeriodicTask, type LoopTask } from '../planner/scheduler.loop.js';
import type { JobStore } from '../store/job-store.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import type { SchedulerPlugin } from './scheduler.plugin.js';
import { timeStore, type StoreTimer } from '../telemetry/metrics/store-timer.js';

// Deleting in bounded batches keeps each round short; a backlog is worked
// off over the following rounds instead of in one long pass.
const PRUNE_BATCH = 10_000;

/**
 * What the pruner uses.
 * @internal
 */
export interface PrunerPorts {
  store: Pick<JobStore, 'prune' | 'pruneDead' | 'deleteRuns'>;
  events: Pick<SchedulerEvents, 'emit'>;
  /** Times its prunes of jobs. @default none */
  storeTimer?: StoreTimer | null;
  isLeader(): boolean;
  /** How often it runs, in ms. */
  interval: number;
  /** How long finished jobs (and workflow runs) are kept, in ms. */
  keepCompleted: number;
  /** Dead letters: kept this long (ms) and at most this many; `null`: no limit. */
  deadLetters: { maxAge: number | null; maxEntries: number | null };
}

/**
 * Pruner (leader only): deletes finished jobs (and finished workflow runs)
 * older than the retention settings, and dead letters past `deadLetters.maxAge`
 * or beyond `deadLetters.maxEntries` (`deadLetter:prune` when any went).
 * @internal
 */
export class PrunerPlugin implements SchedulerPlugin {
  readonly name = 'pruner';

  constructor(private readonly ports: PrunerPorts) {}

  tasks(): LoopTask[] {
    const { store, keepCompleted } = this.ports;
    const prune = async (now: number) => {
      await timeStore(this.ports.storeTimer, 'prune', () => store.prune(['completed', 'discarded', 'cancelled'], new Date(now - keepCompleted), PRUNE_BATCH));
      await this.pruneDead(now);
      await store.deleteRuns(new Date(now - keepCompleted), PRUNE_BATCH);
    };
    return [new PeriodicTask('pruner', this.ports.interval, prune, () => this.ports.isLeader())];
  }

  private async pruneDead(now: number): Promise<void> {
    const { store, events, deadLetters } = this.ports;
    let count = 0;
    if (deadLetters.maxAge !== null) count += await store.pruneDead({ before: new Date(now - deadLetters.maxAge), keep: 0, limit: PRUNE_BATCH });
    if (deadLetters.maxEntries !== null) count += await store.pruneDead({ before: null, keep: deadLetters.maxEntries, limit: PRUNE_BATCH });
    if (count > 0) events.emit('deadLetter:prune', { count, by: 'pruner' });
  }
}
