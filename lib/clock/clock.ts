/** A handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The one source of time for the scheduler. Tests pass a `FakeClock` (from
 * `nestjs-scheduler/testing`) and move time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

// Node's timers overflow above 2^31-1 ms (~24.8 days) and fire at once;
// waking early is harmless because every caller re-checks the time.
const MAX_TIMER_MS = 2_147_483_647;

/** The wall clock, through Node's timers. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_MS));
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}
