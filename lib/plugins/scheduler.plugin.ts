import type { LoopTask } from '../planner/scheduler.loop.js';

/**
 * Work that runs beside the job's path on the scheduler loop (lifeline,
 * pruner, workflow repair, cluster sync). A plugin is built with only the
 * ports it uses; the loop runs its tasks from bootstrap until shutdown.
 * @internal
 */
export interface SchedulerPlugin {
  /** For logs. */
  readonly name: string;
  /** The loop tasks it adds, each with its own timing (leader-only tasks say so in `nextAt`). */
  tasks(): LoopTask[];
  /** Ends work it runs apart from the loop, at shutdown, before the store closes. */
  stop?(): Promise<void>;
}
