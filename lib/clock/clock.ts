// Imported, not the global: on Node 20 the global `performance` is a lazy getter.
import { performance } from 'node:perf_hooks';

/**
 * A handle returned by {@link Clock.setTimeout}.
 * @publicApi
 */
export type TimerHandle = unknown;

/**
 * The one source of time for the scheduler. Tests pass a `FakeClock` (from
 * `nestjs-scheduler/testing`) and move time instead of sleeping.
 * @publicApi
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `callback` once, `ms` milliseconds from now. `precise` asks for
   * the callback as close to its time as the clock can manage (schedule
   * ticks); a clock may ignore it.
   */
  setTimeout(callback: () => void, ms: number, options?: { precise?: boolean }): TimerHandle;
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

// Node's timers overflow above 2^31-1 ms (~24.8 days) and fire at once.
const MAX_TIMER_MS = 2_147_483_647;
/**
 * Node counts a timer from the event loop's cached time, so it may fire a
 * millisecond or two early by the clock when the loop was busy as it was
 * set (measured here: a third of 50-ms timers set after 2 ms of work fired
 * 1 ms early). A tick found not yet due then cost a second timer, one more
 * millisecond of lateness at least. The rest of such a wait is spun out on
 * `setImmediate` instead.
 */
const SPIN_MS = 3;
/**
 * A precise timer wakes this much early and spins out the rest: an idle
 * process's timer fired 1.4-1.7 ms late here (millisecond rounding, and the
 * wake-up of an idle CPU), which was most of an every-second schedule's
 * lateness. It costs at most this much CPU per firing.
 */
const PRECISE_LEAD_MS = 2;

interface SystemTimer {
  timer: NodeJS.Timeout | null;
  immediate: NodeJS.Immediate | null;
}

/**
 * The wall clock, through Node's timers; a callback never runs before its time.
 * Delays are counted on the monotonic clock: a step of the wall clock (NTP
 * correcting it at boot, a resumed VM, `date -s`) moves `now()` but not a
 * pending timer, which would otherwise wait out a backward step in full (a
 * heartbeat or a lease renewal an hour late).
 * @publicApi
 */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, ms: number, options?: { precise?: boolean }): TimerHandle {
    const delay = Math.max(0, ms);
    const due = performance.now() + delay;
    const lead = options?.precise ? PRECISE_LEAD_MS : 0;
    const handle: SystemTimer = { timer: null, immediate: null };
    const fire = (): void => {
      handle.timer = null;
      handle.immediate = null;
      const left = due - performance.now();
      if (left <= 0) callback();
      else if (left <= Math.max(SPIN_MS, lead)) handle.immediate = setImmediate(fire);
      else handle.timer = setTimeout(fire, Math.min(left - lead, MAX_TIMER_MS));
    };
    if (lead > 0 && delay <= lead) handle.immediate = setImmediate(fire);
    else handle.timer = setTimeout(fire, Math.min(delay - lead, MAX_TIMER_MS));
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as SystemTimer | null;
    if (!timer || typeof timer !== 'object') return;
    if (timer.timer) clearTimeout(timer.timer);
    if (timer.immediate) clearImmediate(timer.immediate);
    timer.timer = null;
    timer.immediate = null;
  }
}
