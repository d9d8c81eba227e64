import { PeriodicTask, type LoopTask } from '../planner/scheduler.loop.js';
import type { SchedulerOrchestrator } from '../scheduler.orchestrator.js';

/**
 * Lifeline (leader only): a running job whose heartbeat is older than
 * `rescueAfter` belonged to a node that died; it goes back to `available`
 * (or `dead` when its attempts are spent). Its old attempt's late
 * acknowledgement is then stale and changes nothing.
 */
export function createLifelineTasks(scheduler: SchedulerOrchestrator): LoopTask[] {
  const { options, store, events, peer, queues } = scheduler;
  return [
    new PeriodicTask(
      'lifeline',
      options.rescueInterval,
      async (now) => {
        const rescued = await store.rescue(new Date(now - options.rescueAfter), new Date(now));
        for (const job of rescued) {
          events.emit('job:rescue', { job, duration: 0, outcome: 'rescued' });
          if (job.state === 'available') queues.wake(job.queue);
        }
      },
      () => peer.isLeader(),
    ),
  ];
}
