import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lib/testing/index.js';
import { InvalidArgumentError } from '../../../lib/index.js';

describe('FakeClock.dueTimers', () => {
  it('counts the timers armed at or before now (after an advance returned) until an advance fires them', async () => {
    const clock = new FakeClock(new Date('2026-01-01T00:00:00Z'));
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('later'), 60_000);
    expect([clock.pendingTimers, clock.dueTimers]).toEqual([1, 0]);

    await clock.advance('10s');
    // Work that answered after the advance (a store round trip) arms a timer for now: due, not fired.
    clock.setTimeout(() => fired.push('now'), 0);
    expect([clock.pendingTimers, clock.dueTimers, fired]).toEqual([2, 1, []]);

    await clock.advance(0);
    expect([clock.pendingTimers, clock.dueTimers, fired]).toEqual([1, 0, ['now']]);
    await clock.advance('50s');
    expect([clock.pendingTimers, clock.dueTimers, fired]).toEqual([0, 0, ['now', 'later']]);
  });
});

describe('FakeClock: bad times', () => {
  it('refuses a start, a target or a duration that is not a time with a typed error, and a move past the latest Date (it would hang firing timers, then break every date)', async () => {
    for (const start of [new Date(NaN), NaN, Infinity, 8.64e15 + 1, '2026-01-01', null] as unknown[]) {
      expect(() => new FakeClock(start as Date)).toThrow(InvalidArgumentError);
    }
    const clock = new FakeClock(new Date('2026-01-01T00:00:00Z'));
    for (const date of [undefined, null, 'tomorrow', new Date(NaN), 10n] as unknown[]) {
      await expect(clock.advanceTo(date as Date)).rejects.toThrow(InvalidArgumentError);
    }
    await expect(clock.advance('soon' as never)).rejects.toMatchObject({ argument: 'duration', message: expect.stringContaining('"soon" is not a duration') });
    await expect(clock.advance(8.64e15)).rejects.toThrow(/past the latest Date/);
    await expect(clock.advanceTo(new Date('2025-01-01T00:00:00Z'))).rejects.toThrow(RangeError);
    expect(clock.now()).toBe(Date.parse('2026-01-01T00:00:00Z'));
  });
});
