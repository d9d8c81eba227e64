import { PeriodicTask, type LoopTask } from '../planner/scheduler.loop.js';
import type { JobStore } from '../store/job-store.js';
import type { SchedulerPlugin } from './scheduler.plugin.js';

// Deleting in bounded batches keeps each round short; a backlog is worked
// off over the following rounds instead of in one long pass.
const PRUNE_BATCH = 10_000;

/**
 * What the pruner uses.
 * @internal
 */
export interface PrunerPorts {
  store: Pick<JobStore, 'prune' | 'deleteRuns'>;
  isLeader(): boolean;
  /** How often it runs, in ms. */
  interval: number;
  /** How long finished jobs (and workflow runs) are kept, in ms. */
  keepCompleted: number;
  /** How long dead jobs are kept, in ms. */
  keepDead: number;
}

/**
 * Pruner (leader only): deletes finished jobs (and finished workflow runs) older than the retention settings.
 * @internal
 */
export class PrunerPlugin implements SchedulerPlugin {
  readonly name = 'pruner';

  constructor(private readonly ports: PrunerPorts) {}

  tasks(): LoopTask[] {
    const { store, keepCompleted, keepDead } = this.ports;
    const prune = async (now: number) => {
      await store.prune(['completed', 'discarded', 'cancelled'], new Date(now - keepCompleted), PRUNE_BATCH);
      await store.prune(['dead'], new Date(now - keepDead), PRUNE_BATCH);
      await store.deleteRuns(new Date(now - keepCompleted), PRUNE_BATCH);
    };
    return [new PeriodicTask('pruner', this.ports.interval, prune, () => this.ports.isLeader())];
  }
}
