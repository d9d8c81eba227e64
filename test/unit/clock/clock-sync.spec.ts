import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClockSync, OffsetClock, SKEW_WARNING_MS, UNMEASURED_GIVE_UP } from '../../../lib/clock/clock-sync.js';
import type { Clock } from '../../../lib/clock/clock.js';
import { FakeClock, flushPromises } from '../../../lib/testing/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

/**
 * A wall clock that reads `time` (the monotonic one: its timers) plus the
 * steps made with `stepBy`, as NTP or `date -s` would move it.
 */
function steppable(time: FakeClock): { local: Clock; stepBy(ms: number): void } {
  let step = 0;
  return {
    local: {
      now: () => time.now() + step,
      setTimeout: (callback, ms) => time.setTimeout(callback, ms),
      clearTimeout: (handle) => time.clearTimeout(handle),
    },
    stepBy: (ms) => void (step += ms),
  };
}

/** A "database" whose clock is `skew` ms ahead of the local one, answering after `rtts` ms each (in turn). */
function database(local: FakeClock, skew: () => number, rtts: number[]) {
  let call = 0;
  return async (): Promise<number> => {
    const rtt = rtts[call++ % rtts.length]!;
    // The database reads its clock halfway through the round trip.
    await local.advance(rtt / 2);
    const at = local.now() + skew();
    await local.advance(rtt / 2);
    return at;
  };
}

describe('ClockSync', () => {
  afterEach(() => vi.restoreAllMocks());

  it('corrects the node clock by the offset to the database, from the fastest of its samples', async () => {
    const local = new FakeClock(T0);
    const clock = new OffsetClock(local);
    // A slow sample would be off by a skewed half round trip; the fast one decides.
    const sync = new ClockSync({ clock, storeNow: database(local, () => -120_000, [400, 2, 300]) });
    expect(await sync.measure()).toBe(-120_000);
    expect(clock.now()).toBe(local.now() - 120_000);
  });

  it('warns once when the offset passes a few seconds, and says when it is back', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const local = new FakeClock(T0);
    const clock = new OffsetClock(local);
    let skew = SKEW_WARNING_MS + 1_000;
    // Answers at once: the measurements run from the sync's own timer on the fake clock.
    const sync = new ClockSync({ clock, elapsed: () => local.now(), storeNow: async () => local.now() + skew, interval: 10_000 });
    await sync.start();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/clock is 3\.0 s behind the database's/);
    await local.advance(10_000);
    expect(warn).toHaveBeenCalledTimes(1);
    skew = 10;
    await local.advance(10_000);
    expect(log.mock.calls.map((c) => String(c[0]))).toContain("this node's clock is within 2 s of the database's again");
    // Within the hysteresis: no correction, time does not jitter by round trips.
    expect(clock.offset).toBe(0);
    sync.stop();
    expect(local.pendingTimers).toBe(0);
  });

  it('keeps the last offset while the store does not answer', async () => {
    const local = new FakeClock(T0);
    const clock = new OffsetClock(local);
    let down = false;
    const online = database(local, () => 5_000, [2]);
    const sync = new ClockSync({ clock, storeNow: () => (down ? Promise.reject(new Error('down')) : online()) });
    await sync.measure();
    down = true;
    expect(await sync.measure()).toBeNull();
    expect(clock.offset).toBe(5_000);
  });

  it('a node that started while the store was away measures its clock the moment the store first answers, and is settled only then', async () => {
    const local = new FakeClock(T0);
    const clock = new OffsetClock(local);
    let down = true;
    let reach: () => void = () => undefined;
    const reachable = new Promise<void>((resolve) => (reach = resolve));
    // Answers at once: the measurements run from the sync's own timer on the fake clock.
    const sync = new ClockSync({
      clock,
      elapsed: () => local.now(),
      reachable,
      storeNow: async () => (down ? Promise.reject(new Error('down')) : local.now() + 30_000),
    });
    await sync.start();
    // Away for longer than the give-up bound: failures while it is away do not count.
    await local.advance((UNMEASURED_GIVE_UP + 5) * 1_000);
    expect(clock.offset).toBe(0);
    expect(sync.isSettled).toBe(false);
    down = false;
    reach();
    await flushPromises(10);
    expect(clock.offset).toBe(30_000);
    expect(sync.isSettled).toBe(true);
    await sync.settled;
    sync.stop();
    expect(local.pendingTimers).toBe(0);
  });

  it('a store that cannot tell its first answer is measured again every second until it answers', async () => {
    const local = new FakeClock(T0);
    const clock = new OffsetClock(local);
    let down = true;
    const sync = new ClockSync({ clock, elapsed: () => local.now(), storeNow: async () => (down ? Promise.reject(new Error('down')) : local.now() + 30_000) });
    await sync.start();
    await local.advance(2_000);
    down = false;
    await local.advance(1_000);
    expect(clock.offset).toBe(30_000);
    sync.stop();
  });

  it(`gives up after ${UNMEASURED_GIVE_UP} failed measurements with the store answering (local clock, a warning), and corrects when one succeeds later`, async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const local = new FakeClock(T0);
    const clock = new OffsetClock(local);
    let refuses = true;
    const sync = new ClockSync({
      clock,
      elapsed: () => local.now(),
      reachable: Promise.resolve(),
      interval: 30_000,
      storeNow: async () => (refuses ? Promise.reject(new Error("ERR unknown command 'TIME'")) : local.now() + 30_000),
    });
    await sync.start();
    await local.advance((UNMEASURED_GIVE_UP - 2) * 1_000);
    expect(sync.isSettled).toBe(false);
    await local.advance(1_000);
    expect(sync.isSettled).toBe(true);
    await sync.settled;
    expect(clock.offset).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /could not be read in 5 tries since it answers \(ERR unknown command 'TIME'\): this node goes on with its own clock/,
    );
    // Then every interval, not every second; a later success corrects the clock.
    refuses = false;
    await local.advance(29_000);
    expect(clock.offset).toBe(0);
    await local.advance(1_000);
    expect(clock.offset).toBe(30_000);
    sync.stop();
  });

  for (const byMs of [3_600_000, -3_600_000]) {
    it(`keeps the node's clock on the database's timeline when the local clock steps ${byMs > 0 ? 'forward' : 'back'} an hour, logs it once and measures again`, async () => {
      const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      // Time passes on the fake clock (the monotonic one); the wall clock reads it plus its steps.
      const time = new FakeClock(T0);
      const { local, stepBy } = steppable(time);
      const clock = new OffsetClock(local);
      let reads = 0;
      const sync = new ClockSync({
        clock,
        elapsed: () => time.now(),
        interval: 30_000,
        storeNow: async () => {
          reads++;
          return time.now() + 5_000;
        },
      });
      await sync.start();
      expect(clock.now()).toBe(time.now() + 5_000);
      await time.advance(2_000);
      const before = reads;
      stepBy(byMs);
      // Within the watch's period, long before the next measurement (30 s).
      await time.advance(1_000);
      expect(clock.now()).toBe(time.now() + 5_000);
      expect(reads).toBeGreaterThan(before);
      const side = byMs > 0 ? 'forward' : 'back';
      const steps = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('stepped'));
      expect(steps).toEqual([`the system clock stepped ${side} by 3600.0 s; the scheduler's clock (the database's) is unchanged`]);
      await time.advance(40_000);
      expect(clock.now()).toBe(time.now() + 5_000);
      expect(warn.mock.calls.filter((c) => String(c[0]).includes('stepped'))).toHaveLength(1);
      sync.stop();
      expect(time.pendingTimers).toBe(0);
    });
  }

  it("a timer of the node's clock that fires right after a step reads the compensated clock, before the watch's own look", async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const time = new FakeClock(T0);
    const { local, stepBy } = steppable(time);
    const clock = new OffsetClock(local);
    const sync = new ClockSync({ clock, elapsed: () => time.now(), interval: 30_000, storeNow: async () => time.now() + 5_000 });
    await sync.start();
    let seen: number | null = null;
    // Due between two looks of the watch (every second).
    await time.advance(100);
    clock.setTimeout(() => (seen = clock.now()), 300);
    stepBy(3_600_000);
    await time.advance(300);
    expect(seen).toBe(time.now() + 5_000);
    sync.stop();
  });

  it('discards a measurement whose samples straddle a step, and takes it again', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const time = new FakeClock(T0);
    const { local, stepBy } = steppable(time);
    const clock = new OffsetClock(local);
    let calls: number | null = null;
    let answer: () => void = () => undefined;
    const sync = new ClockSync({
      clock,
      elapsed: () => time.now(),
      interval: 30_000,
      storeNow: async () => {
        const at = time.now() + 5_000;
        if (calls === null) return at;
        calls++;
        // The first sample's round trip spans the watch's look, the step in its middle.
        if (calls === 1) {
          stepBy(-3_600_000);
          await time.advance(1_500);
        }
        // The measurement taken again answers when the test says.
        if (calls > 3) await new Promise<void>((resolve) => (answer = resolve));
        return at;
      },
    });
    await sync.start();
    calls = 0;
    await time.advance(30_000);
    await flushPromises(10);
    expect(calls).toBe(4);
    // The straddling samples did not move the clock: the step's compensation holds.
    expect(clock.now()).toBe(time.now() + 5_000);
    answer();
    await flushPromises(10);
    expect(clock.now()).toBe(time.now() + 5_000);
    sync.stop();
  });
});
