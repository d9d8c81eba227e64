import { parseDuration, type Duration } from '../common/duration.js';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { shown } from '../common/shown.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import { epochMs, MAX_DATE_MS } from '../common/epoch-ms.js';

/** `value` as epoch ms; past a Date's range every date the scheduler makes would be invalid. */
function instant(argument: string, value: unknown): number {
  const ms = epochMs(value);
  if (ms === null)
    throw new InvalidArgumentError(argument, `must be a valid Date or a number of ms since the epoch within a Date's range, got ${shown(value)}`);
  return ms;
}

interface FakeTimer {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * Lets pending promise chains run. One macrotask turn drains every chain of
 * microtasks however deep; a second covers work that a chain hands to
 * `setImmediate`.
 * @publicApi
 */
export async function flushPromises(turns = 2): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock that moves only when told. Pass it as the module's `clock`, then
 * `await clock.advance('1m')`: timers due in that span fire in time order,
 * and the async work they start runs before the next one fires.
 * @publicApi
 */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  /**
   * @param start the initial time. @default 2026-01-01T00:00:00Z
   * @throws InvalidArgumentError for an invalid Date or a number that is not a time.
   */
  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.time = instant('start', start);
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = { id: ++this.seq, at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Timers due now and not fired yet: armed after the last advance, by work
   * that settled later (a store's round trip). The next advance fires them.
   */
  get dueTimers(): number {
    return this.timers.filter((t) => t.at <= this.time).length;
  }

  /**
   * Moves time forward by `duration`, firing every timer due on the way.
   * @throws InvalidArgumentError for a duration that is not one, or that moves past a Date's range.
   */
  async advance(duration: Duration): Promise<void> {
    let ms: number;
    try {
      ms = parseDuration(duration);
    } catch (error) {
      throw new InvalidArgumentError('duration', (error as Error).message);
    }
    if (this.time + ms > MAX_DATE_MS) throw new InvalidArgumentError('duration', `moves the clock past the latest Date, got ${shown(duration)}`);
    await this.advanceTo(this.time + ms);
  }

  /**
   * Moves time forward to `date` (never backwards), firing every timer due on the way.
   * @throws InvalidArgumentError for an invalid Date or a number that is not a time; RangeError for a time before now.
   */
  async advanceTo(date: Date | number): Promise<void> {
    const target = instant('date', date);
    if (target < this.time)
      throw new RangeError(`cannot move a FakeClock backwards (${new Date(target).toISOString()} < ${new Date(this.time).toISOString()})`);
    await flushPromises();
    for (;;) {
      const next = this.timers.reduce<FakeTimer | undefined>(
        (min, t) => (t.at <= target && (!min || t.at < min.at || (t.at === min.at && t.id < min.id)) ? t : min),
        undefined,
      );
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = Math.max(this.time, next.at);
      next.callback();
      await flushPromises();
    }
    this.time = target;
    await flushPromises();
  }
}
