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
   * The attempts this node owns now, for a beat sent at `now`: running,
   * aborted but not yet returned (with the time they started), and claimed
   * into a buffer (`startedAt: null`).
   */
  owned(now: number): HeartbeatRef[];
  /** An attempt that no longer owns its job (rescued, cancelled or deleted elsewhere). */
  lost(ref: AttemptRef): void;
  /** The beat of `owned` answered (`held`: after `lost` was told of each lost one) or failed. @default none */
  answered?(held: boolean): void;
  /** The timer is armed at `now`, due at `due` (`Infinity`: stopped), see `LoopStalls`. @default none */
  armed?(now: number, due: number): void;
  /** The timer fired at `now` (late when the event loop stood still). @default none */
  fired?(now: number): void;
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
    this.deps.armed?.(this.deps.clock.now(), Infinity);
    await this.inFlight;
  }

  /** Records a heartbeat of every owned attempt now (also what the timer does). */
  beat(): Promise<void> {
    this.inFlight ??= this.send().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private arm(): void {
    if (this.stopped) return;
    const { clock, interval } = this.deps;
    const now = clock.now();
    this.deps.armed?.(now, now + interval);
    this.timer = clock.setTimeout(() => {
      this.timer = null;
      this.deps.fired?.(clock.now());
      // Armed before the beat, not after it: a slow statement does not stretch the interval.
      this.arm();
      if (!this.inFlight) void this.beat();
    }, interval);
  }

  private async send(): Promise<void> {
    const now = this.deps.clock.now();
    const refs = this.deps.owned(now);
    if (refs.length === 0) return this.deps.answered?.(true);
    try {
      const { store } = this.deps;
      for (const ref of await timeStore(this.deps.storeTimer, 'heartbeat', () => store.heartbeat(refs, new Date(now)))) this.deps.lost(ref);
      this.deps.answered?.(true);
      this.failures.succeeded();
    } catch (error) {
      this.deps.answered?.(false);
      this.failures.failed(error);
    }
  }
}
