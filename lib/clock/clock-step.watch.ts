import type { Clock, TimerHandle } from './clock.js';

/**
 * A move of the wall clock beyond the monotonic clock's, per look, that is a
 * step (ms). Both are read in the same turn, so a busy event loop moves them
 * alike; NTP slews at most 0.5 ms a second.
 * @internal
 */
export const STEP_MS = 1_000;

/**
 * What {@link ClockStepWatch} needs.
 * @internal
 */
export interface ClockStepWatchDeps {
  /** The wall clock that may step; its timers drive the watch. */
  local: Clock;
  /** A monotonic clock (ms from any origin). */
  elapsed(): number;
  /** Told how far the wall clock stepped (ms, negative: back). */
  stepped(byMs: number): void;
  /** How often to look, in ms. @default 1_000 */
  every?: number;
}

/**
 * Watches the wall clock for steps (NTP correcting a wrong clock at boot, a
 * resumed VM, `date -s`): every second it compares how far the wall clock
 * moved with how far the monotonic clock did, and as each of the
 * scheduler's timers fires. Nothing is added to reading the time, which
 * every job does several times.
 * @internal
 */
export class ClockStepWatch {
  private timer: TimerHandle | null = null;
  private wall = 0;
  private mono = 0;

  constructor(private readonly deps: ClockStepWatchDeps) {}

  start(): void {
    if (this.timer !== null) return;
    this.mark();
    this.arm();
  }

  stop(): void {
    if (this.timer !== null) this.deps.local.clearTimeout(this.timer);
    this.timer = null;
  }

  private mark(): void {
    this.wall = this.deps.local.now();
    this.mono = this.deps.elapsed();
  }

  /** Looks now (also as each of the scheduler's timers fires): tells a step since the last look. */
  check(): void {
    const step = this.deps.local.now() - this.wall - (this.deps.elapsed() - this.mono);
    this.mark();
    if (Math.abs(step) > STEP_MS) this.deps.stepped(Math.round(step));
  }

  private arm(): void {
    this.timer = this.deps.local.setTimeout(() => {
      this.timer = null;
      this.arm();
      this.check();
    }, this.deps.every ?? 1_000);
  }
}
