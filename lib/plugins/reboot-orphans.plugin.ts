import { Logger } from '@nestjs/common';
import { PeriodicTask, type LoopTask } from '../planner/scheduler.loop.js';
import type { JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { NodeRegistry } from '../store/node-registry.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import type { Notifier } from '../notifier/notifier.js';
import type { SchedulerPlugin } from './scheduler.plugin.js';
import type { StoreContact } from './store-contact.js';

/** Jobs of one `@reboot` name read a pass: orphans are a few a dead node. */
const PAGE = 100;

/**
 * What the sweep of orphaned `@reboot` jobs uses.
 * @internal
 */
export interface RebootOrphansPorts {
  store: Pick<JobStore, 'list' | 'cancel'>;
  /** The live nodes, by their beats. */
  nodes: Pick<NodeRegistry, 'list'>;
  notifier: Pick<Notifier, 'notify'>;
  events: Pick<SchedulerEvents, 'emit'>;
  /** The `@reboot` job names. */
  names: readonly string[];
  /** This node, live whatever its last beat says. */
  node: string;
  isLeader(): boolean;
  /** How often the leader sweeps, in ms (the lifeline's interval). */
  interval: number;
  /** How long a node stays live after its last beat, in ms (`rescueAfter`). */
  ttl: number;
  /** Whether beats could land lately: none is judged during an outage's grace. */
  contact: Pick<StoreContact, 'rescueBefore'>;
}

/**
 * A `@reboot` job is pinned to the node that started (it is that start's
 * warm-up): no other node may run it. Once its node is gone (stopped
 * before running it, killed, its running attempt rescued) it would stay
 * available for ever, and its queue's lag grow without end. The leader
 * cancels such jobs: pinned to a node the registry no longer lists (no
 * beat for `rescueAfter`, or a clean stop), inserted longer ago than that
 * (a node that has just started may not have beaten yet), and never while
 * the store was out of reach lately (no beat could land).
 * @internal
 */
export class RebootOrphansPlugin implements SchedulerPlugin {
  readonly name = 'reboot-orphans';
  private readonly logger = new Logger('Scheduler');

  constructor(private readonly ports: RebootOrphansPorts) {}

  tasks(): LoopTask[] {
    return [
      new PeriodicTask(
        'reboot-orphans',
        this.ports.interval,
        (now) => this.sweep(now).then(() => undefined),
        () => this.ports.isLeader(),
      ),
    ];
  }

  /** One sweep; the jobs it cancelled. */
  async sweep(now: number): Promise<Job[]> {
    const { store, nodes, names, node, ttl, contact } = this.ports;
    if (contact.rescueBefore(now) === null) return [];
    const pinned: Job[] = [];
    for (const name of names) {
      for (const job of await store.list({ name, states: ['available'], limit: PAGE, order: 'asc' })) {
        if (job.pinnedNode !== null && job.pinnedNode !== node && job.insertedAt.getTime() <= now - ttl) pinned.push(job);
      }
    }
    if (pinned.length === 0) return [];
    const live = new Set((await nodes.list(new Date(now))).map((n) => n.node));
    const cancelled: Job[] = [];
    for (const job of pinned.filter((j) => !live.has(j.pinnedNode!))) {
      const reason = `its node ${job.pinnedNode} stopped before running it (a @reboot job runs only on the node that started)`;
      const before = await store.cancel(job.id, new Date(now), reason);
      if (!before) continue;
      cancelled.push(before);
      if (before.state === 'running') await this.ports.notifier.notify({ type: 'cancel', jobId: job.id });
      else this.ports.events.emit('job:cancel', { job: { ...before, state: 'cancelled' }, duration: 0, outcome: 'cancelled', reason });
    }
    if (cancelled.length > 0) this.logger.log(`cancelled ${cancelled.length} @reboot job(s) whose node is gone: ${cancelled.map((j) => j.id).join(', ')}`);
    return cancelled;
  }
}
