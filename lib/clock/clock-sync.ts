import { Logger } from '@nestjs/common';
import type { Clock, TimerHandle } from './clock.js';

/**
 * This node's clock as the cluster judges time: the local clock plus the
 * offset measured against the store's (the database's) clock. Every time
 * that decides rescue, leases and due jobs is compared on the database, so
 * a node whose clock lags would otherwise write heartbeats that look stale
 * (its live jobs rescued) and one whose clock runs ahead would rescue live
 * jobs of others and plan ticks early. Timers are relative and unchanged.
 * @internal
 */
export class OffsetClock implements Clock {
  /** Milliseconds to add to the local clock (database time − local time). */
  offset = 0;

  constructor(readonly local: Clock) {}

  now(): number {
    return this.local.now() + this.offset;
  }

  setTimeout(callback: () => void, ms: number, options?: { precise?: boolean }): TimerHandle {
    return this.local.setTimeout(callback, ms, options);
  }

  clearTimeout(handle: TimerHandle): void {
    this.local.clearTimeout(handle);
  }
}

/**
 * What {@link ClockSync} needs.
 * @internal
 */
export interface ClockSyncDeps {
  clock: OffsetClock;
  /** The store's clock (epoch ms), read in one round trip. */
  storeNow(): Promise<number>;
  /** How often to measure, in ms. @default 30_000 */
  interval?: number;
}

/**
 * An offset beyond this is reported in the log (the scheduler still corrects for it).
 * @internal
 */
export const SKEW_WARNING_MS = 2_000;
/** Offsets move only by more than this, so time never jitters back and forth by a round trip. */
const HYSTERESIS_MS = 50;
/** Round trips per measurement; the fastest one bounds the error best (± half its round trip). */
const SAMPLES = 3;
/**
 * Until a first measurement succeeds, how soon the next is tried (ms): a node
 * started while the store was away (`waitForDatabase`) works as soon as it
 * answers, and must not run on its own clock for a whole interval.
 */
const UNMEASURED_RETRY_MS = 1_000;

/**
 * Measures the offset between this node's clock and the database's, at start
 * and then periodically (NTP may step either clock), and applies it to the
 * {@link OffsetClock}. Each measurement takes the sample with the shortest
 * round trip and assumes the database read its clock halfway through it.
 * @internal
 */
export class ClockSync {
  private readonly logger = new Logger('Scheduler');
  private readonly interval: number;
  private timer: TimerHandle | null = null;
  private stopped = true;
  private warned = false;
  private measured = false;

  constructor(private readonly deps: ClockSyncDeps) {
    this.interval = deps.interval ?? 30_000;
  }

  /** Measures once (a store that does not answer is tried again every second until it does), then every `interval`. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.measure();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Measures the offset now; resolves to it (ms), or to null when the store did not answer. */
  async measure(): Promise<number | null> {
    const local = this.deps.clock.local;
    let best: { rtt: number; offset: number } | null = null;
    try {
      for (let i = 0; i < SAMPLES; i++) {
        const sent = local.now();
        const remote = await this.deps.storeNow();
        const received = local.now();
        const rtt = received - sent;
        if (!best || rtt < best.rtt) best = { rtt, offset: remote - (sent + received) / 2 };
      }
    } catch {
      return null;
    }
    if (!best) return null;
    this.measured = true;
    const offset = Math.round(best.offset);
    const clock = this.deps.clock;
    if (Math.abs(offset - clock.offset) > HYSTERESIS_MS) clock.offset = Math.abs(offset) > HYSTERESIS_MS ? offset : 0;
    this.report(offset);
    return offset;
  }

  private report(offset: number): void {
    const far = Math.abs(offset) > SKEW_WARNING_MS;
    if (far && !this.warned) {
      const side = offset > 0 ? 'behind' : 'ahead of';
      this.logger.warn(
        `this node's clock is ${(Math.abs(offset) / 1000).toFixed(1)} s ${side} the database's; the scheduler corrects for it ` +
          '(rescue, heartbeats, due jobs and ticks use the database time), but the rest of this process does not: synchronise the clock (NTP)',
      );
    } else if (!far && this.warned) {
      this.logger.log(`this node's clock is within ${SKEW_WARNING_MS / 1000} s of the database's again`);
    }
    this.warned = far;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(
      () => {
        this.timer = null;
        void this.measure().finally(() => this.arm());
      },
      this.measured ? this.interval : Math.min(this.interval, UNMEASURED_RETRY_MS),
    );
  }
}
