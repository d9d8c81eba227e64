import { PeriodicTask } from '../planner/scheduler.loop.js';
import type { SchedulerOrchestrator } from '../scheduler.orchestrator.js';

// Deleting in bounded batches keeps each round short; a backlog is worked
// off over the following rounds instead of in one long pass.
const PRUNE_BATCH = 10_000;

/** Pruner (leader only): deletes finished jobs (and finished workflow runs) older than the retention settings. */
export function createPrunerTask(scheduler: SchedulerOrchestrator): PeriodicTask {
  const { options, store, peer } = scheduler;
  return new PeriodicTask(
    'pruner',
    options.pruneInterval,
    async (now) => {
      await store.prune(['completed', 'discarded', 'cancelled'], new Date(now - options.keepCompleted), PRUNE_BATCH);
      await store.prune(['dead'], new Date(now - options.keepDead), PRUNE_BATCH);
      await store.deleteRuns(new Date(now - options.keepCompleted), PRUNE_BATCH);
    },
    () => peer.isLeader(),
  );
}
