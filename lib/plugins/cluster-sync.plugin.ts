import { PeriodicTask, type LoopTask } from '../planner/scheduler.loop.js';
import type { SchedulerPlugin } from './scheduler.plugin.js';

/**
 * What the cluster sync uses.
 * @internal
 */
export interface ClusterSyncPorts {
  /** How often it runs, in ms. */
  interval: number;
  /** Other nodes share this node's store (a notice they send may be missed). */
  shared: boolean;
  /** Re-reads queue states (pause, concurrency). */
  applyQueueStates(): Promise<void>;
  /** Re-reads runtime schedules and schedule pauses. */
  syncSchedules(): Promise<void>;
  /** `@reboot` jobs not stored yet (the store was down at start). */
  reboot: { readonly pending: boolean; enqueue(): Promise<void> };
  isLeader(): boolean;
  /** The planner holds every schedule's progress. */
  plannerLoaded(): boolean;
  loadPlanner(): Promise<void>;
}

/**
 * Cluster sync: catch-up for notifications a node may have missed (NOTIFY
 * is not durable), and for start-up work a store that did not answer yet
 * left undone. In one process with an in-process notifier nothing changes
 * behind this node's back, so it runs only while start-up work is pending.
 * @internal
 */
export class ClusterSyncPlugin implements SchedulerPlugin {
  readonly name = 'sync';

  constructor(private readonly ports: ClusterSyncPorts) {}

  tasks(): LoopTask[] {
    const p = this.ports;
    return [
      new PeriodicTask(
        'sync',
        p.interval,
        () => this.sync(),
        () => p.shared || p.reboot.pending || (p.isLeader() && !p.plannerLoaded()),
      ),
    ];
  }

  /** Re-reads what other nodes may have changed: queue states, runtime schedules, pauses. */
  async sync(): Promise<void> {
    const p = this.ports;
    await p.applyQueueStates();
    await p.syncSchedules();
    if (p.reboot.pending) await p.reboot.enqueue();
    if (p.isLeader() && !p.plannerLoaded()) await p.loadPlanner();
  }
}
