import { Logger } from '@nestjs/common';
import { FailureReport } from '../common/failure-report.js';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { AttemptRef, HeartbeatRef, JobStore } from '../store/job-store.js';
import { timeStore, type StoreTimer } from '../telemetry/metrics/store-timer.js';

/**
 * What the heartbeat needs.
 * @internal
 */
export interface AttemptHeartbeatDeps {
  store: Pick<JobStore, 'heartbeat'>;
  /** Times the beats. @default none */
  storeTimer?: StoreTimer | null;
  clock: Clock;
  /** How often every attempt this node owns records a heartbeat, in ms. */
  interval: number;
  /**
   * The attempts this node owns now: running, aborted but not yet returned
   * (with the time they started), and claimed into a buffer (`startedAt: null`).
   */
  owned(): HeartbeatRef[];
  /** An attempt that no longer owns its job (rescued, cancelled or deleted elsewhere). */
  lost(ref: AttemptRef): void;
}

/**
 * Heartbeats of every attempt this node owns, on a timer of their own. Not a
 * task of the scheduler loop: a planner pass over thousands of schedules or a
 * pruning round (or a statement stuck on a dead socket there) must never hold
 * a heartbeat back until the lifeline rescues a job that is still running.
 * It runs from start until the last attempt is acknowledged at shutdown, so
 * jobs finishing within the grace period are never rescued under a draining
 * node. One beat at a time: a beat still in flight when the next is due is
 * not doubled (the store's statement timeout bounds it).
 * @internal
 */
export class AttemptHeartbeat {
  private readonly logger = new Logger('Scheduler');
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = true;
  /** One line an outage (and a reminder a minute): the lifeline rescues these jobs if it lasts longer than rescueAfter. */
  private readonly failures = new FailureReport(this.logger, 'heartbeat of running jobs', false);

  constructor(private readonly deps: AttemptHeartbeatDeps) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm();
  }

  /** Stops the timer and waits for a beat in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  /** Records a heartbeat of every owned attempt now (also what the timer does). */
  beat(): Promise<void> {
    this.inFlight ??= this.send().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      // Armed before the beat, not after it: a slow statement does not stretch the interval.
      this.arm();
      if (!this.inFlight) void this.beat();
    }, this.deps.interval);
  }

  private async send(): Promise<void> {
    const refs = this.deps.owned();
    if (refs.length === 0) return;
    const now = this.deps.clock.now();
    try {
      const { store } = this.deps;
      for (const ref of await timeStore(this.deps.storeTimer, 'heartbeat', () => store.heartbeat(refs, new Date(now)))) this.deps.lost(ref);
      this.failures.succeeded();
    } catch (error) {
      this.failures.failed(error);
    }
  }
}
