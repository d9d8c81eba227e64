import { Logger } from '@nestjs/common';
import { PeriodicTask, type LoopTask } from '../planner/scheduler.loop.js';
import { NotLeaderError } from '../scheduler.errors.js';
import type { JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import type { SchedulerPlugin } from './scheduler.plugin.js';
import { timeStore, type StoreTimer } from '../telemetry/metrics/store-timer.js';
import { toDeadLetter } from '../dead-letters/dead-letter.entry.js';
import type { StoreContact } from './store-contact.js';

/**
 * What the lifeline uses.
 * @internal
 */
export interface LifelinePorts {
  store: Pick<JobStore, 'rescue'>;
  events: Pick<SchedulerEvents, 'emit'>;
  /** Times its rescues. @default none */
  storeTimer?: StoreTimer | null;
  isLeader(): boolean;
  /** Wakes this node's runner of a queue that has a rescued job again. */
  wake(queue: string): void;
  /** How often the leader looks for jobs to rescue, in ms. */
  interval: number;
  /** Which heartbeats are old enough to rescue, given what this node saw of the store (and told of each pass). */
  contact: Pick<StoreContact, 'rescueBefore' | 'graceUntil' | 'watch'>;
}

/**
 * Lifeline (leader only): a running job whose heartbeat is older than
 * `rescueAfter` belonged to a node that died; it goes back to `available`
 * (or `dead` when its attempts are spent). Its old attempt's late
 * acknowledgement is then stale and changes nothing. After an outage of the
 * store, no heartbeat could land: see {@link StoreContact} for the grace
 * that keeps live nodes' jobs from being rescued for it.
 * @internal
 */
export class LifelinePlugin implements SchedulerPlugin {
  readonly name = 'lifeline';
  private readonly logger = new Logger('Scheduler');
  /** The end of the grace last logged, so that each outage is told once. */
  private toldGrace: number | null = null;

  constructor(private readonly ports: LifelinePorts) {}

  tasks(): LoopTask[] {
    return [
      new PeriodicTask(
        'lifeline',
        this.ports.interval,
        (now) => this.rescue(now).then(() => undefined),
        () => this.ports.isLeader(),
      ),
    ];
  }

  /**
   * One rescue pass now (`scheduler.lifeline.checkNow()`); the jobs it moved.
   * @throws NotLeaderError on a follower: two nodes rescuing at once would
   * only race for the same rows, and the leader's pass is the one that counts.
   */
  async checkNow(now: number): Promise<Job[]> {
    if (!this.ports.isLeader()) throw new NotLeaderError('lifeline.checkNow');
    return this.rescue(now);
  }

  private async rescue(now: number): Promise<Job[]> {
    const { store, events, contact } = this.ports;
    const before = contact.rescueBefore(now);
    this.tellGrace(now);
    if (before === null) {
      // Nothing may be rescued, yet the jobs' own table is asked (a pass with a cut-off no heartbeat is under):
      // its answer, not another table's, is what ends an outage (a lock on the jobs alone is one).
      await contact.watch(() => store.rescue(new Date(0), new Date(now)));
      return [];
    }
    const rescued = await contact.watch(() => timeStore(this.ports.storeTimer, 'rescue', () => store.rescue(new Date(before), new Date(now))));
    for (const job of rescued) {
      events.emit('job:rescue', { job, duration: 0, outcome: 'rescued' });
      if (job.state === 'available') this.ports.wake(job.queue);
      else if (job.state === 'dead') events.emit('deadLetter:insert', { entry: toDeadLetter(job) });
    }
    return rescued;
  }

  private tellGrace(now: number): void {
    const until = this.ports.contact.graceUntil(now);
    if (until === null || until === this.toldGrace) return;
    this.toldGrace = until;
    this.logger.warn(
      `the store was out of reach for a while: until ${new Date(until).toISOString()}, a running job is rescued only if its heartbeat had stopped ` +
        'rescueAfter before the outage began, so that live nodes beat again first',
    );
  }
}
