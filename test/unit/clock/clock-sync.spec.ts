import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClockSync, OffsetClock, SKEW_WARNING_MS, UNMEASURED_GIVE_UP } from '../../../lib/clock/clock-sync.js';
import { FakeClock, flushPromises } from '../../../lib/testing/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

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
    const sync = new ClockSync({ clock, storeNow: async () => local.now() + skew, interval: 10_000 });
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
    const sync = new ClockSync({ clock, reachable, storeNow: async () => (down ? Promise.reject(new Error('down')) : local.now() + 30_000) });
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
    const sync = new ClockSync({ clock, storeNow: async () => (down ? Promise.reject(new Error('down')) : local.now() + 30_000) });
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
});
