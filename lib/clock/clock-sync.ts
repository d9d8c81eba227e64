import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { ClockStepWatch } from './clock-step.watch.js';
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

  /**
   * Runs as each timer fires, before its callback: {@link ClockSync}'s look
   * for a step of the local clock. Work a timer drives (rescue, planning,
   * heartbeats, the lease) then never reads a step not yet compensated,
   * which could plan an hour of ticks or rescue live jobs.
   */
  beforeTimer: (() => void) | null = null;

  constructor(readonly local: Clock) {}

  now(): number {
    return this.local.now() + this.offset;
  }

  setTimeout(callback: () => void, ms: number, options?: { precise?: boolean }): TimerHandle {
    return this.local.setTimeout(
      () => {
        this.beforeTimer?.();
        callback();
      },
      ms,
      options,
    );
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
  /**
   * Resolves once the store first answers (a node started while it was away,
   * `waitForDatabase`): the first measurement is taken at that moment.
   * @default the store answers from the start
   */
  reachable?: Promise<void>;
  /** How often to measure, in ms. @default 30_000 */
  interval?: number;
  /**
   * A monotonic clock (ms from any origin), against which steps of the local
   * clock are seen. @default `performance.now`
   */
  elapsed?(): number;
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
 * Until a first measurement succeeds, how soon the next is tried (ms): the
 * node does not work before it (see {@link ClockSync.settled}).
 */
const UNMEASURED_RETRY_MS = 1_000;
/**
 * Failed measurements, once the store answers, after which the node goes on
 * with its own clock: a store that answers everything but the clock read (a
 * Redis that renamed `TIME`, an ACL that denies it) must not hold the node
 * back for ever. About 5 s at one try a second.
 * @internal
 */
export const UNMEASURED_GIVE_UP = 5;

/**
 * Measures the offset between this node's clock and the database's, at start
 * and then periodically (NTP may step either clock), and applies it to the
 * {@link OffsetClock}. Each measurement takes the sample with the shortest
 * round trip and assumes the database read its clock halfway through it.
 *
 * Until the first measurement succeeds the node's clock is unmeasured:
 * {@link settled} tells when the node may lead, plan, claim and rescue. A
 * node started while the store was away measures the moment the store first
 * answers (`reachable`), and every second until then.
 *
 * A step of the local clock (NTP correcting it, a resumed VM) would shift
 * the node's whole notion of the database's time until the next measurement:
 * forward on the leader, every running job's heartbeat would look old (live
 * jobs of other nodes rescued and run twice); back on a worker, its own
 * heartbeats would. A {@link ClockStepWatch} sees the step within a second,
 * or sooner as a timer of the scheduler fires, and the offset takes it back
 * at once, before a measurement confirms it.
 * @internal
 */
export class ClockSync {
  private readonly logger = new Logger('Scheduler');
  private readonly interval: number;
  private timer: TimerHandle | null = null;
  private stopped = true;
  private warned = false;
  private measured = false;
  private gaveUp = false;
  /** Whether the store has answered: only then does a failed measurement count towards giving up. */
  private answered: boolean;
  private failures = 0;
  /** The measurement under way, so the timer's and the store's first answer's never overlap. */
  private running: Promise<void> | null = null;
  private again = false;
  /** A step was seen while a measurement was under way: its samples straddle it, so it is taken again. */
  private resample = false;
  private readonly watch: ClockStepWatch;
  private open: () => void = () => undefined;
  /**
   * Resolves once the node's clock is measured, or given up on after
   * {@link UNMEASURED_GIVE_UP} failures with the store answering (the node
   * then goes on with its own clock). Never rejects.
   */
  readonly settled: Promise<void>;

  constructor(private readonly deps: ClockSyncDeps) {
    this.interval = deps.interval ?? 30_000;
    this.answered = deps.reachable === undefined;
    this.settled = new Promise<void>((resolve) => (this.open = resolve));
    const elapsed = deps.elapsed ?? (() => performance.now());
    this.watch = new ClockStepWatch({ local: deps.clock.local, elapsed, stepped: (byMs) => this.stepped(byMs) });
  }

  /** Whether {@link settled} has resolved. */
  get isSettled(): boolean {
    return this.measured || this.gaveUp;
  }

  /** Measures once, then every `interval` (every second until a measurement succeeds, and at once when the store first answers). */
  async start(): Promise<void> {
    this.stopped = false;
    this.watch.start();
    this.deps.clock.beforeTimer = () => this.watch.check();
    void this.deps.reachable?.then(() => {
      this.answered = true;
      if (!this.isSettled) this.run();
    });
    this.run();
    await this.running;
  }

  stop(): void {
    this.stopped = true;
    this.watch.stop();
    this.deps.clock.beforeTimer = null;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Measures the offset now; resolves to it (ms), or to null when the store did not answer or the local clock stepped meanwhile. */
  async measure(): Promise<number | null> {
    const local = this.deps.clock.local;
    // One sent before the store first answered failed for that reason alone.
    const counts = this.answered;
    let best: { rtt: number; offset: number } | null = null;
    try {
      for (let i = 0; i < SAMPLES; i++) {
        const sent = local.now();
        const remote = await this.deps.storeNow();
        const received = local.now();
        const rtt = received - sent;
        if (!best || rtt < best.rtt) best = { rtt, offset: remote - (sent + received) / 2 };
      }
    } catch (error) {
      if (counts) this.failed(error);
      return null;
    }
    if (!best) return null;
    if (this.resample) return null;
    this.measured = true;
    this.open();
    const offset = Math.round(best.offset);
    const clock = this.deps.clock;
    if (Math.abs(offset - clock.offset) > HYSTERESIS_MS) clock.offset = Math.abs(offset) > HYSTERESIS_MS ? offset : 0;
    this.report(offset);
    return offset;
  }

  /** Keeps the node's clock on the database's timeline across a step of the local clock, and measures again to confirm. */
  private stepped(byMs: number): void {
    this.deps.clock.offset -= byMs;
    const side = byMs > 0 ? 'forward' : 'back';
    this.logger.warn(`the system clock stepped ${side} by ${(Math.abs(byMs) / 1000).toFixed(1)} s; the scheduler's clock (the database's) is unchanged`);
    if (this.running) this.resample = true;
    this.run();
  }

  private failed(error: unknown): void {
    if (this.isSettled || ++this.failures < UNMEASURED_GIVE_UP) return;
    this.gaveUp = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(
      `the database's clock could not be read in ${this.failures} tries since it answers (${reason}): this node goes on with its own clock, ` +
        `uncorrected, and tries again every ${this.interval / 1000} s; synchronise the clocks (NTP)`,
    );
    this.open();
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

  /** Measures now, or right after the measurement under way when it fails (the store's first answer came meanwhile). */
  private run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    this.running = this.measure().then(() => {
      this.running = null;
      const again = (this.again && !this.isSettled) || this.resample;
      this.again = false;
      this.resample = false;
      if (again) this.run();
      else this.arm();
    });
  }

  private arm(): void {
    if (this.stopped || this.timer !== null) return;
    this.timer = this.deps.clock.setTimeout(
      () => {
        this.timer = null;
        this.run();
      },
      this.isSettled ? this.interval : Math.min(this.interval, UNMEASURED_RETRY_MS),
    );
  }
}
